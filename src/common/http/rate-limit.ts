import { CanActivate, ExecutionContext, Injectable, OnModuleDestroy, OnModuleInit, SetMetadata } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { HttpReply, HttpRequest, RawResponse } from './http';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../clock';
import { AppError, ErrorCode } from '../errors/app-error';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A token bucket per client key: `ratePerMs` refill, `burst` capacity. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly ratePerMs: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; returns what is left and how long until the next token (ms). */
  take(key: string): { allowed: boolean; remaining: number; retryAfterMs: number; fullInMs: number } {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs);
    bucket.updatedAt = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      retryAfterMs: allowed ? 0 : (1 - bucket.tokens) / this.ratePerMs,
      fullInMs: (this.burst - bucket.tokens) / this.ratePerMs,
    };
  }

  /** Drops buckets that have refilled completely: they hold no information. */
  sweep(): void {
    const now = this.now();
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.updatedAt) * this.ratePerMs >= this.burst) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}

const EXEMPT_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Marks a route whose attempts count against the stricter per-IP bucket (signup, login). */
export const AUTH_ATTEMPT = 'runloom:auth-attempt';
export const AuthAttempt = () => SetMetadata(AUTH_ATTEMPT, true);

/**
 * The per-IP token buckets (docs/contract.md §1.3): one for every route, a stricter one for auth attempts.
 * `take` sets the RateLimit headers and answers 429 `rate_limited` with Retry-After when empty.
 */
@Injectable()
export class RateLimiter implements OnModuleInit, OnModuleDestroy {
  private readonly buckets: Record<'global' | 'auth', TokenBuckets | null>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    config: AppConfig,
    clock: Clock,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const { perSecond, burst, authPerMinute, authBurst } = config.rateLimit;
    const now = () => clock.now().getTime();
    this.buckets = {
      global: perSecond > 0 && burst > 0 ? new TokenBuckets(perSecond / 1000, burst, now) : null,
      auth: authPerMinute > 0 && authBurst > 0 ? new TokenBuckets(authPerMinute / 60_000, authBurst, now) : null,
    };
    this.sweeper = setInterval(() => {
      this.buckets.global?.sweep();
      this.buckets.auth?.sweep();
    }, 60_000).unref();
  }

  /**
   * The global bucket, taken first thing on every request but the health probes (an orchestrator
   * never sees a healthy process as throttled). A refusal goes to the exception filter.
   */
  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    server?.addHook('onRequest', (request, reply, done) => {
      if (EXEMPT_PATHS.has(request.url.split('?')[0])) return done();
      try {
        this.take('global', request.ip, reply.raw);
      } catch (error) {
        return done(error as Error);
      }
      done();
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** `ip`: the client's address as TRUST_PROXY says; `res`: where the RateLimit headers go. */
  take(which: 'global' | 'auth', ip: string | undefined, res: RawResponse): void {
    const bucket = this.buckets[which];
    if (!bucket) return;
    const result = bucket.take(ip ?? 'unknown');
    res.setHeader('RateLimit-Limit', String(bucket.burst));
    res.setHeader('RateLimit-Remaining', String(result.remaining));
    res.setHeader('RateLimit-Reset', String(Math.ceil(result.fullInMs / 1000)));
    if (!result.allowed) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
      throw new AppError(ErrorCode.RateLimited);
    }
  }
}

/**
 * The stricter bucket, taken once the router has resolved the route: however the path is spelled
 * (`/API/AUTH/LOGIN`, a trailing slash), an attempt that reaches a `@AuthAttempt()` handler counts.
 */
@Injectable()
export class AuthAttemptGuard implements CanActivate {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.get<boolean>(AUTH_ATTEMPT, context.getHandler())) {
      const http = context.switchToHttp();
      this.limiter.take('auth', http.getRequest<HttpRequest>().ip, http.getResponse<HttpReply>().raw);
    }
    return true;
  }
}
