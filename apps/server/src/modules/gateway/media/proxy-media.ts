import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../http/app-error.ts';
import type { KeyPrincipal } from '../../../http/principal.ts';
import type { MediaEndpoint } from '../adapters/types.ts';
import { admit } from '../admit.ts';
import type { GatewayContext } from '../context.ts';
import { route, settleFailure } from '../proxy-request.ts';
import { newRequestState } from '../request-state.ts';
import { checkEndpoint, findUsableModel, modelNotFound } from '../resolve-model.ts';
import { startRequestTrace } from '../trace-request.ts';
import { settleUsage } from '../usage-record.ts';
import { validateBody } from '../validate-body.ts';
import { jsonRequest, multipartRequest } from './build-upstream.ts';
import type { MediaCall } from './media-call.ts';
import { estimateUnits } from './media-units.ts';
import { badRequest, type MediaFile, type MediaForm, readMediaForm } from './read-media-form.ts';
import { relayImages, relaySpeech, relayTranscript } from './relay-media.ts';

/** The file fields each multipart endpoint takes, and how many images it may carry. */
const FILE_FIELDS: Partial<Record<MediaEndpoint, ReadonlySet<string>>> = {
  'images.edits': new Set(['image', 'image[]', 'mask']),
  'images.variations': new Set(['image']),
  'audio.transcriptions': new Set(['file']),
  'audio.translations': new Set(['file']),
};

const RELAYS: Record<MediaEndpoint, MediaCall['relay']> = {
  'images.generations': relayImages,
  'images.edits': relayImages,
  'images.variations': relayImages,
  'audio.speech': relaySpeech,
  'audio.transcriptions': relayTranscript,
  'audio.translations': relayTranscript,
};

/** Missing, extra or repeated files: OpenAI's 400 naming the parameter. */
function checkFiles(endpoint: MediaEndpoint, files: MediaFile[]): void {
  const count = (field: string) => files.filter((f) => f.field === field).length;
  const main = endpoint.startsWith('audio.') ? 'file' : 'image';
  if (count(main) === 0) throw badRequest(`Missing required parameter: '${main}'.`, main);
  const most = endpoint === 'images.edits' ? 16 : 1;
  if (count(main) > most) throw badRequest(`At most ${most} '${main}' file(s) may be sent.`, main);
  if (count('mask') > 1) throw badRequest("At most one 'mask' file may be sent.", 'mask');
}

/**
 * /v1/images and /v1/audio on the gateway's path: read the body (multipart files spooled to private
 * temporary files up to the upload limit, so retries and fallbacks stream them again) → look the model up → validate →
 * estimate the units → admit (their cost against budgets) → input guardrails → route with retries and fallbacks →
 * relay → one usage event with the units the answer proved, however the request ends.
 */
export async function proxyMedia(
  gw: GatewayContext,
  req: FastifyRequest,
  reply: FastifyReply,
  endpoint: MediaEndpoint,
  maxUploadBytes: number,
) {
  const state = newRequestState(req.id, req.principal as KeyPrincipal, endpoint);
  if (gw.tracing) startRequestTrace(gw.tracing, state, req);
  const raw = reply.raw;
  raw.on('close', () => {
    if (raw.writableFinished) return;
    state.clientGone = true;
    state.controller?.abort();
  });
  let form: MediaForm | null = null;
  try {
    const fileFields = FILE_FIELDS[endpoint];
    form = fileFields ? await readMediaForm(req, fileFields, maxUploadBytes) : null;
    const given: unknown = form ? form.fields : req.body;
    const named = (given as { model?: unknown } | null)?.model;
    if (typeof named === 'string') state.modelName = named;
    const model = findUsableModel(gw.models, state.key, state.modelName);
    state.model = model;
    const body = validateBody(endpoint, given);
    state.body = body;
    const spooled = form;
    const files = spooled?.files ?? [];
    if (spooled) checkFiles(endpoint, files);
    const estimate = await estimateUnits(endpoint, body, files);
    state.media = {
      estimate,
      actual: null,
      build: (merged, upstreamModel, basePath) =>
        spooled
          ? multipartRequest(endpoint, merged, files, upstreamModel, basePath)
          : Promise.resolve(jsonRequest(endpoint, merged, upstreamModel, basePath)),
      relay: RELAYS[endpoint],
    };
    const admitted = admit(gw, state, model, body);
    const limitHeaders = admitted instanceof Promise ? await admitted : admitted;
    if (limitHeaders) reply.headers(limitHeaders);
    if (!model) throw modelNotFound(state.modelName);
    checkEndpoint(model, state.modelName, endpoint);
    // the model's and the key's guardrails read (and may mask) an image prompt or the text to speak
    const guard = gw.guardrails?.forRequest(state, model.id);
    if (guard) await guard.checkInput(body);
    const failed = await route(gw, state, model, body, reply);
    if (failed) throw settleFailure(state, failed);
  } catch (err) {
    if (state.outcome === 'success') {
      state.outcome = 'rejected';
      state.httpStatus = err instanceof AppError ? err.status : 500;
      state.errorCode = err instanceof AppError ? err.code : 'internal_error';
    }
    if (!state.clientGone) {
      if (!state.committed) throw err;
    } else if (!state.committed) {
      reply.hijack();
      raw.destroy();
    }
  } finally {
    settleUsage(gw, state);
    await form?.dispose().catch((err: unknown) => gw.log.warn({ err }, 'media upload spool not removed'));
  }
  return reply;
}
