import { smtpTlsOptions, SmtpTlsRefused } from './smtp';

describe('smtpTlsOptions (docs/contract.md §5.6 SMTP TLS rules)', () => {
  it('maps smtpTlsMode', () => {
    expect(smtpTlsOptions({ smtpTlsMode: 'starttls' }, 465)).toEqual({ secure: false, requireTLS: true });
    for (const mode of ['implicit_tls', 'implicit', 'wrapper', 'IMPLICIT_TLS']) {
      expect(smtpTlsOptions({ smtpTlsMode: mode }, 587)).toEqual({ secure: true, requireTLS: false });
    }
  });

  it('uses implicit TLS on port 465 and mandatory STARTTLS elsewhere with the legacy flag or none', () => {
    expect(smtpTlsOptions({}, 465)).toEqual({ secure: true, requireTLS: false });
    expect(smtpTlsOptions({ smtpTls: true }, 465)).toEqual({ secure: true, requireTLS: false });
    expect(smtpTlsOptions({}, 587)).toEqual({ secure: false, requireTLS: true });
    expect(smtpTlsOptions({ smtpTls: true }, 25)).toEqual({ secure: false, requireTLS: true });
  });

  it('refuses plaintext and unknown modes', () => {
    for (const params of [
      { smtpTlsMode: 'none' },
      { smtpTlsMode: 'plaintext' },
      { smtpTls: false },
      { smtpTls: 'false' },
      { smtpTls: ' FALSE ' },
    ]) {
      expect(() => smtpTlsOptions(params, 587)).toThrow('Plaintext SMTP is not allowed');
    }
    expect(() => smtpTlsOptions({ smtpTlsMode: 'ssl3' }, 587)).toThrow(SmtpTlsRefused);
  });
});
