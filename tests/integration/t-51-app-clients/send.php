<?php
// An application sending its sign-up mail with PHPMailer (Debian's libphp-phpmailer) to the local
// relay: SMTP, no AUTH, STARTTLS taken when offered with the test's self-signed certificate.
require '/usr/share/php/libphp-phpmailer/autoload.php';
use PHPMailer\PHPMailer\PHPMailer;
$m = new PHPMailer(true);
$m->isSMTP();
$m->Host = '127.0.0.1';
$m->Port = (int)$argv[1];
$m->SMTPAuth = false;
$m->SMTPOptions = ['ssl' => ['verify_peer' => false, 'verify_peer_name' => false,
                             'allow_self_signed' => true]];
$m->CharSet = 'UTF-8';
$m->setFrom('signup@app.test', 'My App');
$m->addAddress('joerg@customer.test', 'Jörg');
$m->Subject = 'PHPMailer: willkommen';
$m->isHTML(true);
$m->Body = '<p>Confirm: <a href="https://app.test/confirm?token=php-456">here</a></p>';
$m->AltBody = 'Confirm: https://app.test/confirm?token=php-456';
$m->addStringAttachment('name,email', 'users.csv', PHPMailer::ENCODING_BASE64, 'text/csv');
$m->send();
echo "sent\n";
