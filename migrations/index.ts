import type { MigrationInterface } from 'typeorm';
import { Initial1795306618795 } from './1795306618795-initial.js';

/** Every migration in order. `npm run migration:generate` appends here. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [Initial1795306618795];
