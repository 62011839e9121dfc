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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
