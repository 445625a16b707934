/**
 * The one way settings combine: layers in order, each key a later layer sets
 * (even to `null`, "not set") replacing the earlier value. An account is
 * `resolveAccount(origin, defaults, explicit, commandLine)`: msmtp's built-in
 * values, the `defaults` in force where it was defined, what it inherited and
 * set itself, then the command-line options.
 */
import { DEFAULT_SETTINGS, type Account, type AccountOrigin, type AccountSettings } from './account.js';

/** Merges layers, later ones winning; keys whose value is `undefined` say nothing. */
export function layer(...layers: readonly AccountSettings[]): AccountSettings {
  const merged: Record<string, unknown> = {};
  for (const settings of layers) {
    for (const [key, value] of Object.entries(settings)) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged as AccountSettings;
}

/** A complete account: the built-in defaults under `layers`. */
export function resolveAccount(origin: AccountOrigin, ...layers: readonly AccountSettings[]): Account {
  const sources = origin.sources === undefined ? {} : { sources: origin.sources };
  return { ...DEFAULT_SETTINGS, ...layer(...layers), name: origin.name, file: origin.file, line: origin.line, ...sources } as Account;
}
