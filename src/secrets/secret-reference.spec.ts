import { autoSecretName, formatSecretReference, isSecretReference, parseSecretReference } from './secret-reference';

describe('secret references', () => {
  it.each([
    ['email:smtp:main'],
    ['http:bearer_token:auto-bearertoken-1'],
    ['group:service:name with spaces'],
    ['g:s:n'],
  ])('%p is a reference', (value) => {
    expect(isSecretReference(value)).toBe(true);
  });

  it.each([
    ['email:smtp'],
    ['email:smtp:main:extra'],
    ['email::main'],
    [':smtp:main'],
    ['email:smtp:'],
    ['email:smtp:   '],
    ['em ail:smtp:main'],
    ['email:sm\ttp:main'],
    [' email:smtp:main'],
    ['email:smtp:main '],
    ['email :smtp:main'],
    ['email:smtp: main'],
    ['plain'],
    [''],
  ])('%p is not a reference', (value) => {
    expect(isSecretReference(value)).toBe(false);
    expect(parseSecretReference(value)).toBeNull();
  });

  it.each([[null], [undefined], [42], [{}], [['a:b:c']]])('%p (not a string) is not a reference', (value) => {
    expect(isSecretReference(value)).toBe(false);
  });

  it('parses and formats round trip', () => {
    const ref = parseSecretReference('messaging:slack:auto-slack-2');
    expect(ref).toEqual({ group: 'messaging', service: 'slack', name: 'auto-slack-2' });
    expect(formatSecretReference(ref!)).toBe('messaging:slack:auto-slack-2');
    expect(formatSecretReference({ group: 'email', service: 'amazon_ses', name: 'n' })).toBe('email:amazon_ses:n');
  });
});

describe('autoSecretName', () => {
  it('starts at 1', () => {
    expect(autoSecretName('sendgrid', [])).toBe('auto-sendgrid-1');
  });

  it('takes the smallest free n', () => {
    expect(autoSecretName('sendgrid', ['auto-sendgrid-1', 'auto-sendgrid-3'])).toBe('auto-sendgrid-2');
    expect(autoSecretName('sendgrid', new Set(['auto-sendgrid-1', 'auto-sendgrid-2']))).toBe('auto-sendgrid-3');
    expect(autoSecretName('sendgrid', ['auto-sendgrid-2', 'main', 'auto-mailgun-1'])).toBe('auto-sendgrid-1');
  });

  it('removes non-alphanumerics and lower-cases the service', () => {
    expect(autoSecretName('amazon_ses', ['auto-amazonses-1'])).toBe('auto-amazonses-2');
    expect(autoSecretName('Bearer_Token', [])).toBe('auto-bearertoken-1');
    expect(autoSecretName('basic-auth!', [])).toBe('auto-basicauth-1');
  });

  it('accepts any iterable, consumed once', () => {
    function* names() {
      yield 'auto-smtp-1';
      yield 'auto-smtp-2';
    }
    expect(autoSecretName('smtp', names())).toBe('auto-smtp-3');
  });
});
