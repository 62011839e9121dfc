import { DomainError, defineErrors } from '../common/domain-error.js';

export const WEBHOOK_ERRORS = defineErrors({
  WEBHOOK_NOT_FOUND: { kind: 'not_found', description: 'No such webhook endpoint in your organization.' },
  WEBHOOK_DELIVERY_NOT_FOUND: {
    kind: 'not_found',
    description: 'No such delivery of this webhook endpoint.',
  },
  WEBHOOK_URL_REFUSED: {
    kind: 'bad_request',
    description:
      'The URL cannot receive webhooks: it must be https and resolve to public addresses only (no loopback, ' +
      'private, link-local or metadata addresses); `reason` says which rule it breaks.',
  },
  WEBHOOK_DELIVERY_PENDING: {
    kind: 'conflict',
    description: 'The delivery is still being attempted; retry it once it succeeded or gave up.',
  },
});

export class WebhookNotFoundError extends DomainError {
  static readonly definition = WEBHOOK_ERRORS.WEBHOOK_NOT_FOUND;
  constructor() {
    super(WebhookNotFoundError.definition);
  }
}

export class WebhookDeliveryNotFoundError extends DomainError {
  static readonly definition = WEBHOOK_ERRORS.WEBHOOK_DELIVERY_NOT_FOUND;
  constructor() {
    super(WebhookDeliveryNotFoundError.definition);
  }
}

export class WebhookUrlRefusedError extends DomainError {
  static readonly definition = WEBHOOK_ERRORS.WEBHOOK_URL_REFUSED;
  constructor(reason: string) {
    super(WebhookUrlRefusedError.definition, `The webhook URL ${reason}.`, { reason });
  }
}

export class WebhookDeliveryPendingError extends DomainError {
  static readonly definition = WEBHOOK_ERRORS.WEBHOOK_DELIVERY_PENDING;
  constructor() {
    super(WebhookDeliveryPendingError.definition);
  }
}
