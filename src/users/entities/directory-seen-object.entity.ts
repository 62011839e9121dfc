import { Entity, PrimaryColumn } from 'typeorm';

/**
 * The seen set of a full directory round (named by its sync run): the linked identities the round listed,
 * one row each, for as long as the round lasts (dropped when its run ends, and swept after a crashed worker). An UNLOGGED side table, so
 * a round writes neither WAL nor dead tuples on the identity rows, and a database crash merely empties it
 * (a running round then fails and the next one starts afresh).
 */
@Entity({ name: 'directory_sync_seen' })
export class DirectorySeenObjectEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid', primaryKeyConstraintName: 'PK_directory_sync_seen' })
  runId: string;

  @PrimaryColumn({ name: 'object_id', type: 'uuid', primaryKeyConstraintName: 'PK_directory_sync_seen' })
  objectId: string;
}
