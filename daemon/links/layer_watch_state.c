/* layer_watch_state.c — what `bindlinkctl list -o +WATCH` says of a link: which
 * layers of its view the view's server cannot watch, so that a change made directly
 * in them shows through the view within its 1 s timeouts instead of at once
 * (overlay/core/layer_watch.c). Decided by the rule the server watches by
 * (fs_is_local, on the layer directories this daemon holds); what the server meets at
 * run time (a mark refused, an overflowed queue on an older kernel) it logs, and is
 * not known here. */
#include "fs_kind.h"
#include "link_manager.h"
#include "util.h"

#include <string.h>

uint32_t link_manager_layer_watch(const struct link_manager *m, const struct link *l)
{
        if (l->realization != BINDLINK_REALIZED_OVERLAY)
                return BINDLINK_WATCH_NO_VIEW;
        uint32_t watch = 0;
        /* A merged or shadow view on V: B over V's original. */
        const struct overlay_instance *o =
                overlay_registry_find_merged(&m->overlays, l->virtual_path);
        if (o) {
                if (o->lower_fd < 0 || !fs_is_local(o->lower_fd))
                        watch |= BINDLINK_WATCH_ORIGINAL_TIMEOUT;
                if (o->upper_fd < 0 || !fs_is_local(o->upper_fd))
                        watch |= BINDLINK_WATCH_BACKING_TIMEOUT;
                return watch;
        }
        /* A bind mount grafted on the overlay of V's parent: the kernel shows B; the
         * overlay shows the rest of the parent's original directory. */
        _cleanup_free_ char *parent = strdup(l->virtual_path);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (!slash)
                return BINDLINK_WATCH_ORIGINAL_UNKNOWN;
        if (slash == parent)
                slash[1] = '\0';
        else
                *slash = '\0';
        o = overlay_registry_find(&m->overlays, parent);
        if (!o)
                return BINDLINK_WATCH_ORIGINAL_UNKNOWN;
        return o->lower_fd >= 0 && fs_is_local(o->lower_fd) ? 0 : BINDLINK_WATCH_ORIGINAL_TIMEOUT;
}
