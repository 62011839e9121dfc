import { Entity, PrimaryColumn } from 'typeorm';

/**
 * Directory object ids a full round has seen, so users missing from the directory can be found with a
 * keyset scan instead of holding the whole tenant in memory. Rows live only while their run runs.
 */
@Entity({ name: 'sync_seen_objects' })
export class SyncSeenObjectEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId: string;

  @PrimaryColumn({ name: 'object_id', type: 'uuid' })
  objectId: string;
}
