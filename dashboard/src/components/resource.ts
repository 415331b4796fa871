import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { onResync } from '../live.ts';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads something from the API, and loads it again after every reconnect (so a
 * page never shows what it had before the hub went away) and whenever deps change.
 */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await load());
      setError(undefined);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(err);
    } finally {
      setLoading(false);
    }
  }, deps);
  useEffect(() => onResync(reload), [reload]);
  return { data, error, loading, reload };
}
