/**
 * An error caused by what the user gave us (a flag, a file, a payload).
 * Its message is one sentence the user can act on; the CLI prints it
 * without a stack trace and exits with code 2.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
