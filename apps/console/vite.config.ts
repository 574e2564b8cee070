import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/** Writes .br and .gz beside every text asset, served as is by maas serve (@fastify/static preCompressed). */
function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'maas-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const path = join(dir, name);
          return statSync(path).isDirectory() ? walk(path) : [path];
        });
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json)$/.test(file)) continue;
        const data = readFileSync(file);
        if (data.length < 1024) continue;
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

const vendorChunks: Record<string, RegExp> = {
  react: /node_modules\/(react|react-dom|scheduler|react-router|@tanstack)\//,
  echarts: /node_modules\/(echarts|zrender|echarts-for-react)\//,
  pro: /node_modules\/@ant-design\/pro-/,
  antd: /node_modules\/(antd|@ant-design|rc-[^/]+|@rc-component|dayjs)\//,
};

export default defineConfig({
  plugins: [react(), precompress()],
  server: {
    proxy: {
      '/api': process.env.MAAS_URL ?? 'http://127.0.0.1:8080',
      '/v1': process.env.MAAS_URL ?? 'http://127.0.0.1:8080',
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // MAAS_CONSOLE_DEBUG=1: readable bundles with source maps, for debugging a production build
    minify: process.env.MAAS_CONSOLE_DEBUG ? false : 'esbuild',
    sourcemap: Boolean(process.env.MAAS_CONSOLE_DEBUG),
    chunkSizeWarningLimit: 1600,
    rollupOptions: {
      output: {
        manualChunks(id) {
          for (const [name, pattern] of Object.entries(vendorChunks)) if (pattern.test(id)) return name;
          return undefined;
        },
      },
    },
  },
});
