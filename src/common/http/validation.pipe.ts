import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, ErrorCode } from '../errors/app-error';
import { MissingBody } from './json-body';

const OPTIONAL_BODY = Symbol('runloom:optional-body');

/** Marks a body DTO whose body may be absent entirely (docs/contract.md §1.5: manual run, webhook trigger). */
export function OptionalBody(): ClassDecorator {
  return (target) => Reflect.defineMetadata(OPTIONAL_BODY, true, target);
}

function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const constraints = Object.values(e.constraints ?? {});
    if (!constraints.length) return describe(e.children ?? [], field);
    if (e.value === undefined || e.value === null) return [`${field} is required`];
    // The last constraint belongs to the top-most decorator, which we write as the basic type check.
    const message = constraints[constraints.length - 1];
    return [message.startsWith(e.property) ? message.replace(e.property, field) : `${field}: ${message}`];
  });
}

/**
 * class-validator with the envelope's `invalid_request` code and a message that names each bad
 * field (never its value). Unknown properties are stripped, not rejected: the client sends extras.
 */
@Injectable()
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      transform: true,
      forbidUnknownValues: true,
      // `value` is kept to tell missing fields apart; messages never include it.
      validationError: { target: false, value: true },
      exceptionFactory: (errors) =>
        new AppError(ErrorCode.InvalidRequest, `Invalid request: ${describe(errors).join('; ')}`),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && this.toValidate(metadata)) {
      if (value instanceof MissingBody) {
        if (Reflect.getMetadata(OPTIONAL_BODY, metadata.metatype!)) return undefined;
        throw value.reason === 'empty'
          ? new AppError(ErrorCode.InvalidRequest, 'Request body is required')
          : new AppError(ErrorCode.UnsupportedMediaType);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new AppError(ErrorCode.InvalidRequest, 'Request body must be a JSON object', undefined, 422);
      }
    }
    return super.transform(value, metadata);
  }

  /**
   * A number route or query parameter converts from plain decimal digits only: `1e1`, `0x10`, `010`
   * or ` 10` would otherwise reach the route's own pipe as a number; they reach it as NaN, refused.
   */
  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.metatype === Number && typeof value === 'string' && !/^(0|-?[1-9][0-9]*)$/.test(value)) return NaN;
    return super.transformPrimitive(value, metadata) as unknown;
  }
}
