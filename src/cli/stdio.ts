/**
 * The process as the modes see it: stdin, the two output streams and the
 * environment. `main()` takes it as a parameter so tests can run a mode
 * without a process; every mode's module imports this type from here, not
 * from another mode (which made circles of imports through sendmail.ts).
 */
export interface Stdio {
  readonly stdin: AsyncIterable<Uint8Array>;
  writeOut(text: string): void;
  writeErr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
  /** Standard error is a terminal (a flush then shows a progress line). */
  readonly errIsTerminal?: boolean;
  /** How to run outbox again in the background (`queue always`): node and the script, as this process was started. */
  readonly self?: { readonly execPath: string; readonly script: string };
}
