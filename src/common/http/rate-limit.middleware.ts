import { Injectable, NestMiddleware, OnModuleDestroy } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../../config/app-config';
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

const AUTH_PATHS = new Set(['/api/auth/login', '/api/auth/signup']);
const EXEMPT_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Per-IP rate limit for every route (reference §1.3), with a stricter bucket for signup/login.
 * Health probes are exempt so an orchestrator never sees a healthy process as throttled.
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware, OnModuleDestroy {
  private readonly global: TokenBuckets | null;
  private readonly auth: TokenBuckets | null;
  private readonly sweeper: NodeJS.Timeout;

  constructor(config: AppConfig) {
    const { perSecond, burst, authPerMinute, authBurst } = config.rateLimit;
    this.global = perSecond > 0 && burst > 0 ? new TokenBuckets(perSecond / 1000, burst) : null;
    this.auth = authPerMinute > 0 && authBurst > 0 ? new TokenBuckets(authPerMinute / 60_000, authBurst) : null;
    this.sweeper = setInterval(() => {
      this.global?.sweep();
      this.auth?.sweep();
    }, 60_000).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  use(req: Request, res: Response, next: NextFunction): void {
    // originalUrl: Nest mounts middleware on a path, so req.path is relative to it.
    const path = req.originalUrl.split('?')[0];
    if (EXEMPT_PATHS.has(path)) return next();
    const key = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const buckets = [this.global];
    if (req.method === 'POST' && AUTH_PATHS.has(path)) buckets.push(this.auth);
    for (const bucket of buckets) {
      if (!bucket) continue;
      const result = bucket.take(key);
      res.setHeader('RateLimit-Limit', String(bucket.burst));
      res.setHeader('RateLimit-Remaining', String(result.remaining));
      res.setHeader('RateLimit-Reset', String(Math.ceil(result.fullInMs / 1000)));
      if (!result.allowed) {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
        throw new AppError(ErrorCode.RateLimited);
      }
    }
    next();
  }
}
