import type { MigrationInterface } from 'typeorm';
import { Initial1795306618795 } from './1795306618795-initial.js';
import { EntraConnections1795307570616 } from './1795307570616-entra-connections.js';

/** Every migration in order. `npm run migration:generate` appends here. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795306618795,
  EntraConnections1795307570616,
];
