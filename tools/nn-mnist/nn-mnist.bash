# bash completion for nn-mnist                                            -*- shell-script -*-
#
# The commands, each command's options and which options take a value are read from nn-mnist's own
# --help (the man page's source too), so this file does not fall behind the program. Only the
# values of a few options are listed here. Installed as
# $(pkg-config --variable=completionsdir bash-completion)/nn-mnist; works without bash-completion's
# helpers as well (source it).

# The long options in a help text: "  -q, --quiet  ..." and "  --epochs N  ..." lines.
_nn_mnist_options()
{
    sed -nE 's/^ {1,6}(-[A-Za-z], )?(--[a-z][a-z0-9-]*).*/\2/p'
}

_nn_mnist()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cword=$COMP_CWORD
    local prog=${COMP_WORDS[0]}
    # "--opt=value": bash splits at '=' (COMP_WORDBREAKS).
    if [[ $cur == = ]]; then
        cur= prev=${COMP_WORDS[COMP_CWORD - 1]}
    elif [[ $prev == = ]] && ((cword >= 2)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    # A program typed as ~/bin/nn-mnist is not expanded in COMP_WORDS.
    [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
    COMPREPLY=()

    if ((cword == 1)); then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$("$prog" --help 2>/dev/null | _nn_mnist_options) -h -V" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$("$prog" --help 2>/dev/null |
                sed -nE '/^Commands:/,/^$/s/^  ([a-z][a-z0-9-]*) .*/\1/p')" -- "$cur"))
        fi
        return
    fi

    local cmd=${COMP_WORDS[1]}
    if [[ $cmd == help ]]; then
        ((cword == 2)) && COMPREPLY=($(compgen -W "$("$prog" --help 2>/dev/null |
            sed -nE '/^Commands:/,/^$/s/^  ([a-z][a-z0-9-]*) .*/\1/p')" -- "$cur"))
        return
    fi
    local help
    help=$("$prog" "$cmd" --help 2>/dev/null) || return

    # The value of an option: the help writes it after the option, in capitals ("--out DIR").
    if [[ $prev == --* ]]; then
        local arg
        arg=$(sed -nE "s/^ {1,6}(-[A-Za-z], )?${prev}( ([A-Z][A-Z0-9_]*))?( .*)?\$/+\3/p" <<<"$help" | head -n 1)
        if [[ -n $arg && $arg != + ]]; then
            local values=
            case $prev in
            --dataset) values="mnist fashion-mnist" ;;
            --lr-schedule) values="constant cosine" ;;
            --arch) values="mlp cnn reader" ;;
            --activations | --activation | --optimizers | --optimizer)
                # The names the help lists under the option, up to the next option.
                local list=${prev%s}s
                values=$("$prog" grid --help 2>/dev/null |
                    sed -nE "/^  ${list} /,/^  --/{/^  ${list} /d;/^  --/d;p}" |
                    tr ',' '\n' | sed -nE 's/^ *([a-z][a-z0-9_]*).*/\1/p')
                ;;
            esac
            case ${arg#+} in
            DIR) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
            FILE) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
            *)
                if [[ -n $values ]]; then
                    # A comma-separated list: complete its last item.
                    local head=
                    [[ $cur == *,* ]] && head=${cur%,*},
                    COMPREPLY=($(compgen -W "$values" -P "$head" -- "${cur##*,}"))
                fi
                ;;
            esac
            return
        fi
    fi

    if [[ $cur == -* ]]; then
        # Every command takes --help, whether or not its help lists it.
        COMPREPLY=($(compgen -W "$({ _nn_mnist_options <<<"$help"; echo --help; } | sort -u)" -- "$cur"))
    else
        # Operands are files: models, ONNX files, images.
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

complete -F _nn_mnist nn-mnist
