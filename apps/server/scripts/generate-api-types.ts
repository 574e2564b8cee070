import { writeFileSync } from 'node:fs';
import { API_TYPES_PATH, renderApiTypes } from './api-types.ts';

writeFileSync(API_TYPES_PATH, await renderApiTypes());
process.stdout.write(`wrote ${API_TYPES_PATH}\n`);
