import { describe, expect, it } from 'vitest';
import { authorizeErrorCode } from './auth-flows.errors.js';

describe('authorizeErrorCode', () => {
  it.each([
    ['access_denied', 'AADSTS65004: User declined to consent to access the app.', 'cancelled'],
    ['consent_required', 'AADSTS65001: The user or administrator has not consented.', 'consent_required'],
    ['invalid_request', 'AADSTS90094: The grant requires admin permission.', 'consent_required'],
    ['access_denied', 'AADSTS90095: Admin consent is required.', 'consent_required'],
    ['login_required', 'AADSTS50058: A silent sign-in request was sent.', 'interaction_required'],
    ['interaction_required', 'AADSTS50076: MFA required.', 'interaction_required'],
    ['server_error', 'AADSTS90033: A transient error.', 'microsoft_error'],
    ['temporarily_unavailable', '', 'microsoft_error'],
    ['made_up', 'AADSTS900940', 'microsoft_error'],
  ])('maps %s (%s) to %s', (error, description, expected) => {
    expect(authorizeErrorCode(error, description)).toBe(expected);
  });
});
