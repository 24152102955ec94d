import type { Command, Option } from 'commander';

/**
 * Shell completion from the command tree itself: the shell scripts ask
 * `tokenmeter __complete -- <words typed so far>` for candidates, so they never go
 * stale when a command or flag is added.
 */
export function completionCandidates(program: Command, words: string[]): string[] {
  const typed = words.length > 0 ? words : [''];
  const current = typed[typed.length - 1]!;
  const help = program.createHelp();
  let cmd = program;
  for (const word of typed.slice(0, -1)) {
    const sub = help.visibleCommands(cmd).find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) cmd = sub;
  }
  const pool = current.startsWith('-')
    ? help.visibleOptions(cmd).flatMap((o: Option) => (o.long ? [o.long] : []))
    : help.visibleCommands(cmd).map((c) => c.name());
  return [...new Set(pool)].filter((c) => c.startsWith(current)).sort();
}

export function completionScript(shell: 'bash' | 'zsh'): string {
  if (shell === 'bash')
    return `# tokenmeter completion for bash: add to ~/.bashrc
#   source <(tokenmeter completion bash)
_tokenmeter_complete() {
  local IFS=$'\\n'
  COMPREPLY=( $(tokenmeter __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
}
complete -o default -F _tokenmeter_complete tokenmeter
`;
  return `#compdef tokenmeter
# tokenmeter completion for zsh: add to ~/.zshrc (after compinit)
#   source <(tokenmeter completion zsh)
_tokenmeter() {
  local -a candidates
  candidates=("\${(@f)$(tokenmeter __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -- "\${candidates[@]}"
}
compdef _tokenmeter tokenmeter
`;
}
