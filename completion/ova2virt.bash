# bash completion for ova2virt
#
# Subcommands and options come from `ova2virt complete commands|options`
# (the command's own table, so they never drift); domain, pool and network
# names from libvirt through `ova2virt complete domains|pools|networks`,
# on the connection given with -c/--connect if any.

_ova2virt() {
    local cur prev words cword
    _init_completion -n = || return

    local cmd="" uri="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -c | --connect) uri=${words[i + 1]} ;;
            --connect=*) uri=${words[i]#--connect=} ;;
            -*) ;;
            *) [[ -z $cmd && ${words[i - 1]} != -c && ${words[i - 1]} != --connect ]] &&
                cmd=${words[i]} ;;
        esac
    done
    local connect=()
    [[ -n $uri ]] && connect=(-c "$uri")

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$(ova2virt complete commands 2>/dev/null) --help --version" -- "$cur"))
        return
    fi

    case $prev in
        --pool)
            COMPREPLY=($(compgen -W "$(ova2virt complete "${connect[@]}" pools 2>/dev/null)" -- "$cur"))
            return ;;
        --network)
            # SRC=NET: complete the libvirt network after '='.
            if [[ $cur == *=* ]]; then
                local src=${cur%%=*}
                COMPREPLY=($(compgen -P "$src=" -W "user none $(ova2virt complete "${connect[@]}" networks 2>/dev/null)" -- "${cur#*=}"))
                compopt -o nospace
            fi
            return ;;
        -c | --connect)
            COMPREPLY=($(compgen -W "qemu:///system qemu:///session test:///default" -- "$cur"))
            return ;;
        --format) COMPREPLY=($(compgen -W "qcow2 raw" -- "$cur")); return ;;
        -O) COMPREPLY=($(compgen -W "qcow2 raw vmdk" -- "$cur")); return ;;
        -f) COMPREPLY=($(compgen -W "vmdk qcow2 raw" -- "$cur")); return ;;
        --disk-bus) COMPREPLY=($(compgen -W "auto keep virtio sata scsi" -- "$cur")); return ;;
        --nic-model) COMPREPLY=($(compgen -W "keep virtio e1000" -- "$cur")); return ;;
        --virt-type) COMPREPLY=($(compgen -W "kvm qemu" -- "$cur")); return ;;
        --ovf-version) COMPREPLY=($(compgen -W "1 2" -- "$cur")); return ;;
        --storage-dir | --keep | --ovf-dir)
            _filedir -d; return ;;
        --ca | --sign | --cert | -o | --state)
            _filedir; return ;;
        --name | --vsys | --deployment | --prop | --timeout | --threads | -j | --jobs | --bridge)
            return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(ova2virt complete options "$cmd" 2>/dev/null)" -- "$cur"))
        return
    fi
    case $cmd in
        export)
            COMPREPLY=($(compgen -W "$(ova2virt complete "${connect[@]}" domains 2>/dev/null)" -- "$cur")) ;;
        *)
            _filedir ;;
    esac
}
complete -F _ova2virt ova2virt
