import { startFakeUpstream } from '../../packages/testkit/src/fake-upstream/index.ts';

/** Child process: the fake upstream on its own event loop; sends `{ url }` (the base without /v1). */
const upstream = await startFakeUpstream({ record: false, chunks: 20 });
process.send?.({ url: upstream.baseUrl });
process.on('disconnect', () => {
  void upstream.close().then(() => process.exit(0));
});
