import { Injectable } from '@nestjs/common';

export type ScimResourceKind = 'users' | 'groups';
/** How many of an organization's resources of one kind SCIM manages (users: not deleted through SCIM). */
export type ScimResourceCounter = (organizationId: string) => Promise<number>;

/**
 * The port through which the users and groups parts of the SCIM module tell the status how many resources
 * they manage, so access never reads their tables. Each part calls `provide` once at start-up (e.g. in its
 * service's constructor); a kind nobody provides counts as null ("not available").
 */
@Injectable()
export class ScimResourceCounts {
  private readonly counters = new Map<ScimResourceKind, ScimResourceCounter>();

  provide(kind: ScimResourceKind, counter: ScimResourceCounter): void {
    this.counters.set(kind, counter);
  }

  async count(kind: ScimResourceKind, organizationId: string): Promise<number | null> {
    const counter = this.counters.get(kind);
    return counter ? counter(organizationId) : null;
  }
}
