import 'reflect-metadata';
import { IsInt, IsString, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { parseParams } from './node-params';
import { NodeError } from './node-types';

class Inner {
  @IsInt() @Min(1) count!: number;
}
class Params {
  @IsString() text!: string;
  @ValidateNested() @Type(() => Inner) inner!: Inner;
}

describe('parseParams', () => {
  it('returns a validated instance', () => {
    const p = parseParams(Params, { text: 'x', inner: { count: 2 } });
    expect(p).toBeInstanceOf(Params);
    expect(p.inner).toBeInstanceOf(Inner);
  });

  it('names every failing field (nested with a dot), never a value', () => {
    const attempt = () => parseParams(Params, { text: 'sk-secret-value', inner: { count: 0 }, extra: 1 });
    expect(attempt).toThrow(NodeError);
    expect(attempt).toThrow(/^Invalid node parameters: inner\.count$/);
    expect(() => parseParams(Params, { text: 7, inner: { count: 'sk-secret' } })).toThrow(
      /^Invalid node parameters: text, inner\.count$/,
    );
  });

  it('refuses params that are not an object', () => {
    for (const bad of [null, 'x', [1], 3]) expect(() => parseParams(Params, bad)).toThrow('params must be an object');
  });
});
