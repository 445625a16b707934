import { expect } from 'vitest';
import { OutboxError } from '../../src/errors.js';

/** The OutboxError that `run` throws; the test fails if it throws nothing or something else. */
export function thrownOutboxError(run: () => unknown): OutboxError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    return error as OutboxError;
  }
  throw new Error('expected an OutboxError, and nothing was thrown');
}
