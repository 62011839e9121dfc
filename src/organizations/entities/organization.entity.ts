import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import { PLANS, type Plan } from '../../common/access.js';

export { PLANS, type Plan };

@Entity({ name: 'organizations' })
export class OrganizationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'enum', enum: PLANS, enumName: 'organization_plan', default: 'free' })
  plan: Plan;

  /** Maximum number of active users. */
  @Column({ name: 'seat_limit', type: 'integer', default: 5 })
  seatLimit: number;

  /**
   * Active users, each holding a seat. Kept by the `users_seat_counts` trigger in the transaction of every
   * status change (migration 1796700000000), never written by the service; read it under the organization lock.
   */
  @Column({ name: 'seats_used', type: 'integer', default: 0, insert: false, update: false })
  seatsUsed: number;

  /** Users waiting in the seat queue (pending `awaiting_seat`), kept like `seatsUsed`. */
  @Column({ name: 'seat_queue_length', type: 'integer', default: 0, insert: false, update: false })
  seatQueueLength: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
