import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { NodeError } from './node-types';

/**
 * A node's `data.params` as an instance of its params class, validated with class-validator (the
 * same decorators as request DTOs). Failures name the fields, never their values: params are
 * templated and may hold secrets.
 */
export function parseParams<T extends object>(type: new () => T, params: unknown): T {
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw new NodeError('Invalid node parameters: params must be an object');
  }
  const instance = plainToInstance(type, params ?? {});
  const errors = validateSync(instance, {
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });
  if (errors.length) throw new NodeError(`Invalid node parameters: ${fieldNames(errors).join(', ')}`);
  return instance;
}

function fieldNames(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) =>
    e.children?.length ? fieldNames(e.children, `${prefix}${e.property}.`) : [`${prefix}${e.property}`],
  );
}
