import type { Request, Response } from 'express';
import { AuthPrincipal } from './principal';

/** Passport strategy names, implemented in the auth module. */
export const STRATEGY = {
  sessionCookie: 'session-cookie',
  bearerSession: 'bearer-session',
  apiKey: 'api-key',
} as const;
export type StrategyName = (typeof STRATEGY)[keyof typeof STRATEGY];

/** Runs one named strategy against a request (implemented by the auth module with passport). */
export abstract class CredentialVerifier {
  abstract verify(strategy: StrategyName, req: Request, res: Response): Promise<AuthPrincipal>;
}
