import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { AppError, ErrorCode } from '../errors/app-error';

/** The column is a 32-bit integer; no workflow gets near it. */
const MAX_VERSION = 2_147_483_647;

/** `@Param('n', VersionNumberPipe)`: a positive integer, else a 400 naming the parameter. */
@Injectable()
export class VersionNumberPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown, metadata: ArgumentMetadata): number | undefined {
    if (value === undefined && metadata.type === 'query') return undefined;
    // The global pipe may have made a number of it already (implicit conversion): judge its text.
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    const n = /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : NaN;
    if (n >= 1 && n <= MAX_VERSION) return n;
    throw new AppError(
      ErrorCode.InvalidRequest,
      `Invalid ${metadata.data ?? 'version'}: expected a version number (1 or more)`,
    );
  }
}
