import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { AppError, ErrorCode } from '../errors/app-error';

/** `@Param('id', UuidPipe)`: a malformed id is a 400 naming the parameter, never a 500 or a 404. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && isUUID(value)) return value.toLowerCase();
    throw new AppError(ErrorCode.InvalidRequest, `Invalid ${metadata.data ?? 'id'}: expected a UUID`);
  }
}
