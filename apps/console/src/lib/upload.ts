import { ApiError, errorFromResponse } from '../api/client.ts';

export interface UploadProgress {
  /** 0..1 of the bytes sent */
  onProgress(ratio: number): void;
  signal?: AbortSignal;
}

/** POSTs a form with XMLHttpRequest, the one browser API that reports upload progress. */
export function postForm<T>(
  url: string,
  form: FormData,
  token: string | undefined,
  opts: UploadProgress,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) opts.onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        opts.onProgress(1);
        resolve(JSON.parse(xhr.responseText) as T);
      } else {
        void errorFromResponse(new Response(xhr.responseText, { status: xhr.status })).then(reject);
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'the server could not be reached'));
    xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}
