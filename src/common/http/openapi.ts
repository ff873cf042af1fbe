import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse, ApiSchema, ApiSchemaOptions } from '@nestjs/swagger';

/**
 * An object whose keys the server does not fix (user settings, a node's params). Spelled out because
 * a bare `type: object` reads as "no properties" to client generators (`Record<string, never>`).
 */
export const OPEN_OBJECT = { type: 'object', additionalProperties: true } as const;

/** Any JSON value, stored as sent (a trigger payload, a node's outputs): one of the JSON types, not an empty object. */
export const JSON_VALUE = {
  oneOf: [OPEN_OBJECT, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }],
};

/**
 * A class schema that admits keys beyond the ones it lists (a React Flow node carries editor state
 * the server keeps as is). ApiSchema copies options it does not know into the schema; its type
 * only admits `name` and `description`.
 */
export const ApiOpenSchema = (description: string) =>
  ApiSchema({ description, additionalProperties: true } as ApiSchemaOptions);

export class ErrorEnvelopeDto {
  @ApiProperty({ example: false }) success: false;
  @ApiProperty({ example: 'error' }) status: 'error';
  @ApiProperty({ example: 'Invalid request: email must be a valid email address' }) message: string;
  @ApiProperty({ type: String, nullable: true, example: 'invalid_request' }) code: string | null;
  @ApiPropertyOptional({ description: 'Present on 500s: quote it when reporting the problem.' }) error_id?: string;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (`invalid_request`, `invalid_json`), naming the field.',
  401: '`Session is required`, `Invalid session token`, `Session expired` or `Invalid API key`.',
  403: 'Forbidden: missing/invalid CSRF token (`csrf_failed`), a role or plan rule.',
  404: 'Not found (or not visible to the caller).',
  409: 'Conflict.',
  413: 'Body larger than BODY_LIMIT (`payload_too_large`).',
  415: 'Body is not `application/json` (`unsupported_media_type`).',
  422: 'Well-formed JSON of the wrong shape (`invalid_request`).',
  429: 'Rate limited (`rate_limited`), with `RateLimit-*` and `Retry-After` headers.',
};

/** Documents the DSentr error envelope for each listed status. */
export const ApiErrors = (...statuses: number[]) =>
  applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', type: ErrorEnvelopeDto }),
    ),
  );
