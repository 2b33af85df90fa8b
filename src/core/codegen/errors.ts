import { ModelError } from '../errors';

/** An export failure tied to an operator (the extension shows it on that operator's line). */
export class CodegenError extends ModelError {
  constructor(message: string, opIndex?: number) {
    super('unsupported', message, opIndex);
  }
}
