// windows_sample.cpp — a Windows program that uses the Bind Link API, ported with no
// change but its strings (narrow, not wide): the flow of Microsoft's BindLink sample
// (CREATE virtPath backingPath [--read-only] [--merged], REMOVE virtPath), its flags
// combined with the enum's operators, its HRESULTs tested with FAILED. Built by the
// suite with g++ (-std=c++17 -Werror), run by cli.sh.
#include <bindlink.h>

#include <cstdio>
#include <cstring>
#include <string>

static void usage(FILE *fp)
{
        std::fprintf(fp, "Usage: windows_sample CREATE virtPath backingPath [--read-only] "
                         "[--merged]\n       windows_sample REMOVE virtPath\n");
}

static std::string upper(const char *s)
{
        std::string r(s);
        for (auto &c : r)
                c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        return r;
}

int main(int argc, char **argv)
{
        // As Windows code writes it: both flags at once, combined in a constant.
        constexpr CREATE_BIND_LINK_FLAGS both =
                CREATE_BIND_LINK_FLAG_READ_ONLY | CREATE_BIND_LINK_FLAG_MERGED;
        static_assert((both & CREATE_BIND_LINK_FLAG_MERGED) == CREATE_BIND_LINK_FLAG_MERGED,
                      "the flag operators");
        if (argc < 3) {
                usage(stderr);
                return 1;
        }
        std::string command = upper(argv[1]);
        HRESULT hr;
        if (command == "CREATE" && argc >= 4) {
                CREATE_BIND_LINK_FLAGS flags = CREATE_BIND_LINK_FLAG_NONE;
                for (int i = 4; i < argc; i++) {
                        if (std::strcmp(argv[i], "--read-only") == 0) {
                                flags |= CREATE_BIND_LINK_FLAG_READ_ONLY;
                        } else if (std::strcmp(argv[i], "--merged") == 0) {
                                flags |= CREATE_BIND_LINK_FLAG_MERGED;
                        } else {
                                usage(stderr);
                                return 1;
                        }
                }
                hr = CreateBindLink(argv[2], argv[3], flags, 0, nullptr);
                if (FAILED(hr)) {
                        std::fprintf(stderr, "CreateBindLink failed: HRESULT 0x%08X\n",
                                     static_cast<unsigned>(hr));
                        return 1;
                }
                std::printf("Bind link created: %s -> %s%s%s\n", argv[2], argv[3],
                            (flags & CREATE_BIND_LINK_FLAG_READ_ONLY) ? " read-only" : "",
                            (flags & CREATE_BIND_LINK_FLAG_MERGED) ? " merged" : "");
                return 0;
        }
        if (command == "REMOVE") {
                hr = RemoveBindLink(argv[2]);
                if (FAILED(hr)) {
                        std::fprintf(stderr, "RemoveBindLink failed: HRESULT 0x%08X\n",
                                     static_cast<unsigned>(hr));
                        return 1;
                }
                std::printf("Bind link removed: %s\n", argv[2]);
                return 0;
        }
        usage(stderr);
        return 1;
}
