/**
 * Options as man page items, straight from a commander program: the same
 * flags and descriptions --help prints, in the same groups. A test reads
 * --help and the page back and compares them option by option.
 */
import { Help, type Command, type Option } from 'commander';
import type { Block, Term } from './roff.js';

/** `-C, --file <file>` → bold `-C, --file`, italic `<file>`. */
export function optionTerm(option: Option): Term {
  const match = /^(.*?)(?: ([<[].*))?$/.exec(option.flags)!;
  return match[2] === undefined ? { bold: match[1]! } : { bold: match[1]!, italic: match[2] };
}

export function optionItem(option: Option): Block {
  return { kind: 'item', term: optionTerm(option), text: option.description };
}

/** The options --help shows (with --help itself), in its order. */
export function visibleOptions(program: Command): readonly Option[] {
  return new Help().visibleOptions(program);
}

/** Options grouped by their help heading, each group a subsection, in the order --help prints them. */
export function groupedOptionBlocks(program: Command): Block[] {
  const groups = new Map<string, Option[]>();
  for (const option of visibleOptions(program)) {
    const heading = option.helpGroupHeading ?? 'Options:';
    groups.set(heading, [...(groups.get(heading) ?? []), option]);
  }
  const ordered = [...groups.keys()].sort((a, b) => firstIndex(program, a) - firstIndex(program, b));
  return ordered.flatMap((heading) => [
    { kind: 'subsection', title: heading.replace(/:$/, '') } as Block,
    ...groups.get(heading)!.map(optionItem),
  ]);
}

/** commander orders groups by their first option in the program's list; --help's own group has none there. */
function firstIndex(program: Command, heading: string): number {
  const index = program.options.findIndex((option) => (option.helpGroupHeading ?? 'Options:') === heading && !option.hidden);
  return index === -1 ? program.options.length : index;
}
