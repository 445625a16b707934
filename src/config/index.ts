/**
 * The configuration: msmtp's configuration language, account choice, secrets,
 * aliases and `--pretend`. The CLI uses it like this:
 *
 * ```ts
 * // --host: no file at all
 * const chosen = commandLineAccount({ envelopeFrom, commandLine });
 * // otherwise
 * const config = loadConfiguration(systemLoadRequest(options.file));   // -C FILE or undefined
 * const chosen = chooseAccount(config, { account, envelopeFrom, commandLine, env: process.env });
 * // sendmail mode: substitutions (%U %H %C %M %F) and auto_from
 * const account = await expandAccount(chosen.account, systemSubstitutionInputs({ mailFrom }));
 * // -P: print and stop (never runs passwordeval, never prompts)
 * process.stdout.write(renderPretend(pretendLines({ files: config.files, chosen: { ...chosen, account } })));
 * // sending
 * const from = requireEnvelopeFrom(account);
 * const recipients = expandAccountAliases(account, envelopeRecipients, readFileSync);
 * const secret = needsPassword ? await resolvePassword(account, systemSecretDeps()) : undefined;
 * ```
 *
 * `commandLine` is the CLI's options as one `AccountSettings` layer (the CLI
 * builds it; `parseCommand('tls_trust_file', value, home)` turns an option
 * value into settings with the configuration file's validation, throwing an
 * `ArgumentError` in msmtp's words that the CLI reports as E_USAGE). `-f` goes in
 * `envelopeFrom`, not in `commandLine.from`: it chooses the account and
 * replaces its `from` unless `allow_from_override` is off.
 *
 * Errors are OutboxError: 'E_CONFIG' (exit 78) for the language, the account
 * choice, the permission rule, `passwordeval`, aliases and `%M`; 'E_IO' (74)
 * for an unreadable `-C` file and a failing `eval`. Errors about a line start
 * with `file:line: `.
 */
export {
  AUTH_METHODS,
  DEFAULT_SETTINGS,
  SETTING_NAMES,
  defaultPort,
  dsnNotifyParameter,
  dsnReturnParameter,
  type Account,
  type AccountOrigin,
  type AccountSettings,
  type AddHeaderPolicy,
  type AuthMethod,
  type AuthSetting,
  type QueueMode as QueueSetting,
  type DsnCondition,
  type DsnNotify,
  type DsnReturn,
  type FromHeaderPolicy,
  type Protocol,
  type Settings,
  type SyslogFacility,
  type ToHeaderPolicy,
} from './account.js';
export { ArgumentError, expandTilde } from './arguments.js';
export { COMMANDS, parseCommand } from './commands.js';
export { layer, resolveAccount } from './layer.js';
export { lex, type ConfigLine } from './lexer.js';
export { parseConfigFile, type AccountDefinition, type ParsedFile, type ParseOptions } from './parser.js';
export {
  SYSTEM_CONFIG_FILE,
  SYSTEM_CONFIG_VARIABLE,
  loadConfiguration,
  systemConfigPath,
  userConfigPath,
  type ConfigFileReport,
  type Configuration,
  type FileSystem,
  type LoadRequest,
} from './files.js';
export { finalizeAccount, type ReadyAccount } from './validate.js';
export {
  COMMAND_LINE_ACCOUNT,
  ENVIRONMENT_ACCOUNT,
  chooseAccount,
  commandLineAccount,
  findAccountByEnvelopeFrom,
  type AccountChoice,
  type ChooseRequest,
  type ChosenAccount,
} from './select.js';
export { fnmatch } from './fnmatch.js';
export {
  autoFrom,
  expandAccount,
  expandDomain,
  expandFrom,
  needsMailFrom,
  requireEnvelopeFrom,
  type SubstitutionInputs,
} from './expand.js';
export {
  SYSTEM_NETRC_FILE,
  resolvePassword,
  type KeyringQuery,
  type PasswordSource,
  type ResolvedPassword,
  type SecretDeps,
} from './secrets.js';
export { parseNetrc, findNetrcPassword, type NetrcEntry } from './netrc.js';
export {
  ALIAS_LOOKUP_LIMIT,
  expandAccountAliases,
  expandAliases,
  isLocalRecipient,
  parseAliases,
  type AliasTable,
} from './aliases.js';
export { checkFallbackChains, describeChain, fallbackChain } from './fallback.js';
export { pretendLines, renderPretend, type Mode, type PlannedRecipient, type PretendInput, type PretendLine } from './pretend.js';
export { firstOutputLine, type AsyncCommandRunner, type CommandOutcome, type CommandRunner } from './shell.js';
export {
  homeDirectory,
  nodeFileSystem,
  secretToolKeyring,
  asyncShellRunner,
  shellRunner,
  systemLoadRequest,
  systemSecretDeps,
  systemSubstitutionInputs,
  terminalPrompt,
} from './system.js';
// Local delivery (issue 15) and recipient routing (issue 16).
export { parseMda, splitWords, type MdaSpec } from './mda.js';
export { routeFor, routeMatches, type Route } from './routes.js';
export { requireServer } from './validate.js';
