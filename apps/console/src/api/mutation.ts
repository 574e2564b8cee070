import { useMutation, useQueryClient } from '@tanstack/react-query';
import { App } from 'antd';
import { useErrorText } from '../components/error-text.ts';
import { useOrgKey } from './queries.ts';

/**
 * A write with feedback: a success toast, the error in words, and the lists it changed refetched.
 * `invalidate` names org-scoped query keys (e.g. 'keys').
 */
export function useApiMutation<TVars, TResult = unknown>(
  fn: (vars: TVars) => Promise<TResult>,
  opts: {
    success?: string | ((result: TResult) => string);
    invalidate?: string[];
    onSuccess?: (result: TResult, vars: TVars) => void;
  } = {},
) {
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const orgKey = useOrgKey();
  return useMutation({
    mutationFn: fn,
    onSuccess: async (result, vars) => {
      if (opts.success)
        message.success(typeof opts.success === 'function' ? opts.success(result) : opts.success);
      await Promise.all(
        (opts.invalidate ?? []).map((k) => queryClient.invalidateQueries({ queryKey: [...orgKey, k] })),
      );
      opts.onSuccess?.(result, vars);
    },
    onError: (err) => {
      message.error(errorText(err));
    },
  });
}

/** For form submit handlers: true when the write succeeded (the error was already shown). */
export async function succeeded(work: Promise<unknown>): Promise<boolean> {
  try {
    await work;
    return true;
  } catch {
    return false;
  }
}
