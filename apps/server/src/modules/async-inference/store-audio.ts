import { Readable } from 'node:stream';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { FilesService } from '../files/index.ts';

/** What an async speech job's result says: the audio is a file of /v1/files (purpose `user_data`). */
export interface StoredAudio {
  object: 'audio.speech.file';
  file_id: string;
  filename: string;
  bytes: number;
  content_type: string;
}

const EXTENSIONS: Record<string, string> = {
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/flac': 'flac',
  'audio/aac': 'aac',
  'audio/opus': 'opus',
  'audio/ogg': 'ogg',
  'audio/pcm': 'pcm',
};

/** Keeps the audio an async speech job made as a file of the key's project; the job result points to it. */
export async function storeAudio(
  files: FilesService,
  key: KeyPrincipal,
  jobId: string,
  audio: { data: Buffer; contentType: string },
): Promise<StoredAudio> {
  const type = audio.contentType.split(';', 1)[0]!.trim().toLowerCase();
  const filename = `speech-${jobId}.${EXTENSIONS[type] ?? 'bin'}`;
  const row = await files.create({
    orgId: key.orgId,
    projectId: key.projectId,
    purpose: 'user_data',
    filename,
    body: Readable.from([audio.data]),
    sizeHint: audio.data.length,
  });
  return { object: 'audio.speech.file', file_id: row.id, filename, bytes: row.bytes, content_type: type };
}
