#!/usr/bin/env node
// npx entry point: run the TypeScript CLI through tsx without a build step.
import { register } from 'tsx/esm/api';
register();
await import('./main.ts');
