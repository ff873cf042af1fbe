import 'reflect-metadata';
import { IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { nodeMessage, parseParams } from './node-params';
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

describe('parseParams with a node message', () => {
  class WithMessage {
    @IsString({ context: nodeMessage('HTTP node requires a URL') }) url!: string;
    @IsInt() count!: number;
  }

  it('reports the constraint’s own text instead of the field list', () => {
    expect(() => parseParams(WithMessage, { count: 1 })).toThrow(/^HTTP node requires a URL$/);
  });

  it('falls back to the field list when the failing constraints carry no message', () => {
    expect(() => parseParams(WithMessage, { url: 'x', count: 'n' })).toThrow(/^Invalid node parameters: count$/);
  });
});

describe('parseParams copies only declared fields', () => {
  it('leaves the editor’s extra fields behind, however large', () => {
    const big = Array.from({ length: 10_000 }, (_, i) => ({ i }));
    const p = parseParams(Params, { text: 'x', inner: { count: 1 }, uiState: big });
    expect(p).not.toHaveProperty('uiState');
    expect(p.text).toBe('x');
  });
});

describe('parseParams keeps free JSON as the user wrote it', () => {
  class WithBody {
    @IsOptional() body?: unknown;
    @IsString() url!: string;
  }

  it('an object with `constructor` or `__proto__` keys passes through untouched', () => {
    const body = JSON.parse('{"constructor":"a","__proto__":{"polluted":true},"b":2}') as Record<string, unknown>;
    const p = parseParams(WithBody, { url: 'x', body });
    expect(p.body).toBe(body);
    expect(Object.keys(p.body as object)).toEqual(['constructor', '__proto__', 'b']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
