import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { RunEntity } from '../database/entities/run.entity';
import { WorkflowEntity } from '../database/entities/workflow.entity';
import { WorkflowChanges, WorkflowRepository } from '../database/repositories/workflow.repository';
import { WorkspaceRepository } from '../database/repositories/workspace.repository';
import { PlansService } from '../plans/plans.service';
import { RunLauncher } from '../runs/run-launcher';
import { RunResponse, toRunResponse } from '../runs/runs.dto';
import { nodeLabel, parseGraph } from '../engine/graph';
import { buildSnapshot, controlPart, graphPart, SNAPSHOT_KEYS } from '../engine/snapshot';
import { SecretsService } from '../secrets/secrets.service';
import { WorkflowAccess } from '../workflows/workflow-access';
import { WorkflowSettings } from '../workflows/workflow-settings';
import { CanonicalJsonError, canonicalJson, parseBody, splitLegacySignature } from './canonical-json';
import {
  deriveSigningKey,
  deriveWebhookToken,
  matchSignature,
  safeEqual,
  signWebhook,
  timestampFresh,
} from './webhook-crypto';
import {
  WebhookConfigResponse,
  WebhookRegeneratedResponse,
  WebhookRunResponse,
  WebhookUrlResponse,
} from './webhooks.dto';

const HMAC_PLAN_MESSAGE = 'HMAC verification is available on workspace plans. Upgrade your plan to enable it.';
const HMAC_PERSONAL_MESSAGE =
  'HMAC verification is for workspace workflows: this workflow is personal. Move it into a workspace on the Workspace plan to enable it.';
const SIGNING_PLAN_MESSAGE = 'Webhook signing requires the Workspace plan.';
/** What a sender presented: the signature headers and the body bytes exactly as received. */
export interface WebhookRequest {
  timestampHeader?: string;
  signatureHeader?: string;
  rawBody?: Buffer;
}

interface WebhookTrigger {
  id: string;
  label: string;
}

/** docs/contract.md §6.2: trigger nodes whose `triggerType` is `webhook`; label = trimmed label or the id. */
export function webhookTriggers(data: Record<string, unknown>): WebhookTrigger[] {
  return parseGraph(data)
    .graph.triggers('webhook')
    .map((node) => ({ id: node.id, label: nodeLabel(node) }));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8, as the reference's parser: invalid bytes are a 400, not silently replaced. */
function decodeBody(body: Buffer | undefined): string {
  if (!body?.length) return '';
  try {
    return utf8.decode(body);
  } catch {
    throw new AppError(ErrorCode.InvalidJson, 'Request body is not valid UTF-8');
  }
}

/** RFC 3986: unreserved characters stay, everything else is percent-encoded (docs/contract.md §2.12). */
export function encodeLabel(label: string): string {
  return [...Buffer.from(label, 'utf8')]
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/**
 * The public webhook trigger and its configuration routes (docs/contract.md §6, §2.12): tokens
 * and signing keys derived from WEBHOOK_SECRET, HMAC in header or legacy body mode over the
 * canonical JSON of the body, replay dedupe within the window, then the same gates as a manual run.
 */
@Injectable()
export class WebhooksService {
  /** Redacted copies of the trigger targets' graphs, by graph object (see `answer`). */
  private readonly redactedGraphs = new WeakMap<object, Record<string, unknown>>();

  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly access: WorkflowAccess,
    private readonly settings: WorkflowSettings,
    private readonly workspaces: WorkspaceRepository,
    private readonly launcher: RunLauncher,
    private readonly plans: PlansService,
    private readonly secrets: SecretsService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async trigger(
    workflowId: string,
    token: string,
    label: string | undefined,
    request: WebhookRequest,
  ): Promise<WebhookRunResponse> {
    const found = await this.workflows.findTriggerTarget(workflowId);
    if (!found) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    const { workflow, workspace, owner } = found;
    const target = this.selectTrigger(workflow, label);
    if (!target) throw new AppError(ErrorCode.NotFound, 'Workflow not found');
    if (!safeEqual(token, this.token(workflow))) throw new AppError(ErrorCode.Unauthorized, 'Invalid token');

    if (workflow.workspaceId) {
      if (!workspace) throw new AppError(ErrorCode.NotFound, 'Workspace not found');
      if (workflow.requireHmac && this.plans.workspaceTier(workspace) === 'solo')
        throw new AppError(ErrorCode.Forbidden, SIGNING_PLAN_MESSAGE);
    }
    const { payload, signature } = workflow.requireHmac
      ? this.verified(workflow, request)
      : { payload: this.plainPayload(request.rawBody), signature: undefined };

    const { run } = await this.launcher.launch({
      workflow,
      trigger: { kind: 'webhook', owner, workspace },
      // Replay dedupe: the launcher records the signature with the run, in one statement.
      signature,
      snapshot: () => {
        const snapshot = buildSnapshot(workflow.data, {
          triggerContext: payload,
          egressAllowlist: workflow.egressAllowlist,
        });
        snapshot[SNAPSHOT_KEYS.startFromNode] = target.id;
        snapshot[SNAPSHOT_KEYS.startTriggerLabel] = target.label;
        return snapshot;
      },
    });
    return { success: true, run: this.answer(run, workflow.data) };
  }

  /**
   * The queued run as the sender gets it, redacted. Its graph is the trigger target's shared graph
   * (one frozen object per saved version): its redacted copy is made once per version, not per
   * request (a 5,000-node graph takes a megabyte's walk).
   */
  private answer(run: RunEntity, graph: Record<string, unknown>): RunResponse {
    const { redactor } = this.secrets;
    let redactedGraph = this.redactedGraphs.get(graph);
    if (!redactedGraph) {
      redactedGraph = redactor.redact(graphPart(graph));
      this.redactedGraphs.set(graph, redactedGraph);
    }
    const response = redactor.redact({ ...toRunResponse(run), snapshot: controlPart(run.snapshot) });
    return { ...response, snapshot: { ...redactedGraph, ...response.snapshot } };
  }

  /** The URL is the capability to run the workflow: members who may run it. */
  async url(caller: AuthPrincipal, workflowId: string): Promise<WebhookUrlResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    return { success: true, ...this.urls(workflow) };
  }

  /** Holds the signing key, which lets its holder start runs: members who may run (not viewers). */
  async getConfig(caller: AuthPrincipal, workflowId: string): Promise<WebhookConfigResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'run');
    return {
      success: true,
      require_hmac: workflow.requireHmac,
      replay_window_sec: workflow.hmacReplayWindowSec,
      signing_key: this.signingKey(workflow),
    };
  }

  async setConfig(
    caller: AuthPrincipal,
    workflowId: string,
    requireHmac: boolean,
    windowSec: number | undefined,
  ): Promise<{ success: true }> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    // Say the real cause: a personal workflow has no workspace plan to upgrade.
    if (requireHmac && !workflow.workspaceId) throw new AppError(ErrorCode.Forbidden, HMAC_PERSONAL_MESSAGE);
    if (requireHmac && !(await this.onWorkspacePlan(workflow)))
      throw new AppError(ErrorCode.Forbidden, HMAC_PLAN_MESSAGE);
    const window = Math.min(3600, Math.max(60, windowSec ?? workflow.hmacReplayWindowSec));
    await this.update(workflow, caller, { requireHmac, hmacReplayWindowSec: window });
    return { success: true };
  }

  /** New salt: both the URL token and the signing key change (docs/contract.md §6.1). */
  async regenerate(caller: AuthPrincipal, workflowId: string): Promise<WebhookRegeneratedResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    return this.rotate(workflow, caller);
  }

  async regenerateSigningKey(caller: AuthPrincipal, workflowId: string): Promise<WebhookRegeneratedResponse> {
    const { workflow } = await this.access.require(caller, workflowId, 'configure');
    if (!workflow.workspaceId) throw new AppError(ErrorCode.NotFound, 'Workflow not in a workspace');
    const workspace = await this.workspaces.findActive(workflow.workspaceId);
    if (!workspace) throw new AppError(ErrorCode.NotFound, 'Workspace not found');
    if (this.plans.workspaceTier(workspace) === 'solo') throw new AppError(ErrorCode.Forbidden, SIGNING_PLAN_MESSAGE);
    return this.rotate(workflow, caller);
  }

  // --- verification ---------------------------------------------------------------------------

  /**
   * docs/contract.md §6.4: header mode preferred, legacy body fields otherwise. Gives the payload
   * and the matched signature, which the run's launch records once (a second use is a replay).
   */
  private verified(workflow: WorkflowEntity, request: WebhookRequest): { payload: unknown; signature: string } {
    const raw = decodeBody(request.rawBody);
    let ts: string;
    let header: string;
    let canonical: string;
    let payload: unknown;
    try {
      if (request.timestampHeader && request.signatureHeader) {
        ts = request.timestampHeader.trim();
        header = request.signatureHeader;
        canonical = canonicalJson(raw);
        payload = raw.trim() ? parseBody(raw) : undefined;
      } else if (raw.trim()) {
        const legacy = splitLegacySignature(raw);
        ts = legacy.ts;
        header = legacy.sig;
        canonical = legacy.canonical;
        payload = legacy.payload;
      } else {
        ts = '';
        header = '';
        canonical = '';
      }
    } catch (error) {
      if (error instanceof CanonicalJsonError) throw new AppError(ErrorCode.InvalidJson);
      throw error;
    }
    if (!ts || !header.trim()) throw new AppError(ErrorCode.Unauthorized, 'Missing HMAC signature');
    const now = this.clock.now();
    if (!timestampFresh(ts, now.getTime(), workflow.hmacReplayWindowSec))
      throw new AppError(ErrorCode.Unauthorized, 'Stale or invalid timestamp');
    const matched = matchSignature(header, signWebhook(this.signingKey(workflow), ts, canonical));
    if (!matched) throw new AppError(ErrorCode.Unauthorized, 'Invalid HMAC signature');
    return { payload, signature: matched };
  }

  private plainPayload(rawBody: Buffer | undefined): unknown {
    const raw = decodeBody(rawBody);
    if (!raw.trim()) return undefined;
    try {
      return parseBody(raw);
    } catch (error) {
      if (error instanceof CanonicalJsonError) throw new AppError(ErrorCode.InvalidJson);
      throw error;
    }
  }

  // --- helpers --------------------------------------------------------------------------------

  /** docs/contract.md §6.3: by label (case-insensitive) when given, else the only webhook trigger. */
  private selectTrigger(workflow: WorkflowEntity, label: string | undefined): WebhookTrigger | null {
    const triggers = webhookTriggers(workflow.data);
    const wanted = label?.trim().toLowerCase();
    if (wanted) return triggers.find((t) => t.label.toLowerCase() === wanted) ?? null;
    return triggers.length === 1 ? triggers[0] : null;
  }

  private token(workflow: WorkflowEntity): string {
    return deriveWebhookToken(this.config.secrets.webhookSecret, workflow.userId, workflow.id, workflow.webhookSalt);
  }

  private signingKey(workflow: WorkflowEntity): string {
    return deriveSigningKey(this.config.secrets.webhookSecret, workflow.userId, workflow.id, workflow.webhookSalt);
  }

  /** The paths the web client expects, each with the absolute URL a sender outside can use. */
  private urls(workflow: WorkflowEntity): Pick<WebhookUrlResponse, 'url' | 'absolute_url' | 'triggers'> {
    const url = `/api/workflows/${workflow.id}/trigger/${this.token(workflow)}`;
    const base = this.config.http.apiPublicUrl;
    return {
      url,
      absolute_url: `${base}${url}`,
      triggers: webhookTriggers(workflow.data).map((t) => {
        const path = `${url}/${encodeLabel(t.label)}`;
        return { label: t.label, url: path, absolute_url: `${base}${path}` };
      }),
    };
  }

  private async rotate(workflow: WorkflowEntity, caller: AuthPrincipal): Promise<WebhookRegeneratedResponse> {
    const updated = await this.update(workflow, caller, { webhookSalt: randomUUID() });
    return { success: true, ...this.urls(updated), signing_key: this.signingKey(updated) };
  }

  private async update(
    workflow: WorkflowEntity,
    caller: AuthPrincipal,
    changes: WorkflowChanges,
  ): Promise<WorkflowEntity> {
    return this.settings.update(caller, workflow, changes);
  }

  private async onWorkspacePlan(workflow: WorkflowEntity): Promise<boolean> {
    if (!workflow.workspaceId) return false;
    const workspace = await this.workspaces.findActive(workflow.workspaceId);
    return !!workspace && this.plans.workspaceTier(workspace) === 'workspace';
  }
}
