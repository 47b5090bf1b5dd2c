# zsh_complete.zsh DIR BINDLINKCTL LINE EXPECTED: type LINE and a TAB into an
# interactive zsh (on a pseudo-terminal, zsh/zpty) whose completion functions come
# from DIR, with bindlinkctl the program BINDLINKCTL; succeed once the screen shows
# EXPECTED. Every wait polls, for 20 s at most; then it prints what the screen showed
# and fails.
zmodload zsh/zpty || exit 2
dir=$1 ctl=$2 line=$3 expected=$4
screen=

# Read what the terminal shows until it holds $1 (20 s at most).
wait_for() {
        local chunk i
        for i in {1..400}; do
                while zpty -r -t z chunk; do screen+=$chunk; done
                [[ $screen == *"$1"* ]] && return 0
                sleep 0.05
        done
        return 1
}

zpty z zsh -f -i || exit 2
zpty -w z "PS1='> '; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' list-prompt ''; setopt nolistbeep"
# What the shell prints, not the echo of what was typed: READY-FOR-42.
zpty -w z "bindlinkctl() { ${(q)ctl} \"\$@\" }; echo READY-FOR-\$((6 * 7))"
if wait_for READY-FOR-42; then
        screen=
        zpty -n -w z "$line"$'\t'
        wait_for "$expected" && { zpty -d z; exit 0; }
fi
zpty -d z
print -r -- "no '$expected' on the screen after 20 s: ${(V)screen}"
exit 1
