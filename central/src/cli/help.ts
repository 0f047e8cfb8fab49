// How `xchg … --help` shows an option's default. Commander shows the default of an option that has a value
// when left out; an option whose default central applies (the CLI sends nothing and central decides) is
// declared with .default(undefined, 'what central uses'), and optionDescription shows that text too.
import { Help, Option } from 'commander';

/** Commander's description of an option, plus "(default: …)" for a default central applies. */
export function optionDescription(this: Help, option: Option): string {
  const text = Help.prototype.optionDescription.call(this, option);
  if (option.defaultValue !== undefined || option.defaultValueDescription === undefined) return text;
  const shown = `default: ${option.defaultValueDescription}`;
  // Beside the choices, in commander's own parentheses: "(choices: "a", "b", default: a)".
  return option.argChoices ? `${text.slice(0, -1)}, ${shown})` : `${text} (${shown})`;
}

/**
 * An option left to a default the CLI does not send (central's, or one that depends on other values);
 * `shown` is what --help says it is, e.g. "7d (central's)".
 */
export function defaulted(flags: string, description: string, shown: string): Option {
  return new Option(flags, description).default(undefined, shown);
}
