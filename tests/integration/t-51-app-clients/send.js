// An application sending its password-reset mail with nodemailer (Debian's node-nodemailer), the
// way a web app is configured for a local relay: host and port, no AUTH, STARTTLS taken when
// offered (the test's certificate is self-signed). Prints the server's reply to the final dot.
const nodemailer = require('nodemailer');
const port = Number(process.argv[2]);
const transport = nodemailer.createTransport({
  host: '127.0.0.1',
  port,
  secure: false,
  tls: { rejectUnauthorized: false },
});
transport.sendMail({
  from: '"My App" <noreply@app.test>',
  to: 'Zoë Example <zoe@customer.test>',
  subject: 'nodemailer: réinitialiser le mot de passe',
  text: 'Reset: https://app.test/reset?token=node-123',
  html: '<p>Reset: <a href="https://app.test/reset?token=node-123">here</a></p>',
  attachments: [{ filename: 'facture.pdf', content: Buffer.from('%PDF-1.4 node') }],
}).then((info) => { console.log(info.response); }, (err) => { console.error(err); process.exit(1); });
