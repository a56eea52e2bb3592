using System.Security.Cryptography;
using System.Text;
using CallNotify.Infrastructure.Configuration;
using CallNotify.Infrastructure.Twilio;
using Microsoft.Extensions.Options;
using Twilio.Security;

namespace CallNotify.Infrastructure.Tests.Twilio;

public sealed class TwilioSignatureVerifierTests
{
    // The vectors of PROTOCOLS.md, taken from twilio-csharp's own tests.
    private const string VectorToken = "12345";
    private const string VectorBody = "{\"property\": \"value\", \"boolean\": true}";
    private const string VectorBodyHash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    private const string VectorAccount = "AC00000000000000000000000000000001";
    private const string OtherAccount = "AC00000000000000000000000000000002";

    private static readonly byte[] VectorBodyBytes = Encoding.UTF8.GetBytes(VectorBody);

    [Test]
    public void BodyHashOfTheVectorBodyIsTheDocumentedOne()
    {
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(VectorBodyBytes)), Is.EqualTo(VectorBodyHash));
    }

    [TestCase("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + VectorBodyHash, "a9nBmqA0ju/hNViExpshrM61xv4=")]
    [TestCase("https://mycompany.com/myapp.php?bodySHA256=" + VectorBodyHash, "y77kIzt2vzLz71DgmJGsen2scGs=")]
    [TestCase("https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=" + VectorBodyHash, "uzN7O1319XdYoYMfTT2eUM1PJT0=")]
    public void AcceptsTheDocumentedVectors(string url, string signature)
    {
        var verdict = Verifier(VectorAccount, VectorToken).Verify(url, signature, VectorBodyBytes);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(verdict.IsValid, Is.True);
            Assert.That(verdict.SignedBy, Is.EqualTo(VectorAccount));
        }
    }

    [Test]
    public void AcceptsASignatureMadeWithTheDefaultPortWhenTheRequestUrlHasNone()
    {
        // Signed as https://mycompany.com:443/…, received as https://mycompany.com/…
        var verdict = Verifier(VectorAccount, VectorToken).Verify(
            "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + VectorBodyHash, "uzN7O1319XdYoYMfTT2eUM1PJT0=", VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.True);
    }

    [Test]
    public void AcceptsASignatureMadeWithoutThePortWhenTheRequestUrlHasTheDefaultOne()
    {
        var verdict = Verifier(VectorAccount, VectorToken).Verify(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=" + VectorBodyHash, "a9nBmqA0ju/hNViExpshrM61xv4=", VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.True);
    }

    [Test]
    public void RejectsATamperedBody()
    {
        var tampered = Encoding.UTF8.GetBytes(VectorBody.Replace("true", "false", StringComparison.Ordinal));

        var verdict = Verifier(VectorAccount, VectorToken).Verify(
            "https://mycompany.com/myapp.php?bodySHA256=" + VectorBodyHash, "y77kIzt2vzLz71DgmJGsen2scGs=", tampered);

        Assert.That(verdict.IsValid, Is.False);
    }

    [Test]
    public void RejectsAWrongBodyHashEvenWhenTheUrlSignatureMatches()
    {
        const string wrongHash = "1a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        var url = "https://example.com/calls/notificationWebhook?bodySHA256=" + wrongHash;

        var verdict = Verifier(VectorAccount, VectorToken).Verify(url, Sign(VectorToken, url), VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.False);
    }

    [Test]
    public void RejectsAUrlWithoutBodyHash()
    {
        const string url = "https://example.com/calls/notificationWebhook";

        var verdict = Verifier(VectorAccount, VectorToken).Verify(url, Sign(VectorToken, url), VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.False);
    }

    [Test]
    public void RejectsAUrlThatCarriesTheBodyHashTwice()
    {
        var url = $"https://example.com/hook?bodySHA256={VectorBodyHash}&bodySHA256={VectorBodyHash}";

        var verdict = Verifier(VectorAccount, VectorToken).Verify(url, Sign(VectorToken, url), VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.False);
    }

    [Test]
    public void RejectsAChangedUrl()
    {
        var signed = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + VectorBodyHash;
        var received = "https://mycompany.com/myapp.php?foo=1&bar=3&bodySHA256=" + VectorBodyHash;

        var verdict = Verifier(VectorAccount, VectorToken).Verify(received, Sign(VectorToken, signed), VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.False);
    }

    [Test]
    public void RejectsASignatureMadeWithAnotherToken()
    {
        var url = "https://mycompany.com/myapp.php?bodySHA256=" + VectorBodyHash;

        var verdict = Verifier(VectorAccount, VectorToken).Verify(url, Sign("54321", url), VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.False);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("not base64!")]
    [TestCase("AAAA")]
    [TestCase("y77kIzt2vzLz71DgmJGsen2scGs=y77kIzt2vzLz71DgmJGsen2scGs=y77kIzt2vzLz71DgmJGsen2scGs=")]
    public void RejectsMissingOrMalformedSignatures(string? signature)
    {
        var verdict = Verifier(VectorAccount, VectorToken).Verify(
            "https://mycompany.com/myapp.php?bodySHA256=" + VectorBodyHash, signature, VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.False);
    }

    /// <summary>
    /// The header must equal the Base64 of the HMAC, as Twilio's library compares it. Decoding alone would let through
    /// white space anywhere in it and other spellings of the same bytes (found by the property tests).
    /// </summary>
    [TestCase("y77kIzt2vzLz71DgmJGsen2scGs=", true, TestName = "AcceptsTheCanonicalSignature")]
    [TestCase("y77kIzt2vz Lz71DgmJGsen2scGs=", false, TestName = "RejectsTheSignatureWithASpaceInside")]
    [TestCase("y77kIzt2vzLz71Dg\nmJGsen2scGs=", false, TestName = "RejectsTheSignatureWithANewlineInside")]
    [TestCase("y77kIzt2vzLz71DgmJGsen2scGs=\t", false, TestName = "RejectsTheSignatureWithATrailingTab")]
    [TestCase("y77kIzt2vzLz71DgmJGsen2scGt=", false, TestName = "RejectsTheSignatureWithOtherPaddingBits")]
    [TestCase("y77kIzt2vzLz71DgmJGsen2scGs", false, TestName = "RejectsTheSignatureWithoutPadding")]
    public void AcceptsOnlyTheExactBase64OfTheSignature(string signature, bool valid)
    {
        var verdict = Verifier(VectorAccount, VectorToken).Verify(
            "https://mycompany.com/myapp.php?bodySHA256=" + VectorBodyHash, signature, VectorBodyBytes);

        Assert.That(verdict.IsValid, Is.EqualTo(valid));
    }

    [Test]
    public void AcceptsTheSecondaryTokenDuringRotation()
    {
        var options = new TwilioOptions
        {
            Accounts = [new TwilioAccountOptions { AccountSid = VectorAccount, AuthToken = "new-primary-token", SecondaryAuthToken = VectorToken }],
        };

        var verdict = new TwilioSignatureVerifier(Options.Create(options)).Verify(
            "https://mycompany.com/myapp.php?bodySHA256=" + VectorBodyHash, "y77kIzt2vzLz71DgmJGsen2scGs=", VectorBodyBytes);

        Assert.That(verdict, Is.EqualTo(Application.Common.Ports.SignatureVerdict.SignedByAccount(VectorAccount)));
    }

    [Test]
    public void TellsWhichAccountSigned()
    {
        var options = new TwilioOptions
        {
            Accounts =
            [
                new TwilioAccountOptions { AccountSid = OtherAccount, AuthToken = "other-account-token" },
                new TwilioAccountOptions { AccountSid = VectorAccount, AuthToken = VectorToken },
            ],
        };
        var url = "https://example.com/hook?bodySHA256=" + VectorBodyHash;
        var verifier = new TwilioSignatureVerifier(Options.Create(options));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(verifier.Verify(url, Sign(VectorToken, url), VectorBodyBytes).SignedBy, Is.EqualTo(VectorAccount));
            Assert.That(verifier.Verify(url, Sign("other-account-token", url), VectorBodyBytes).SignedBy, Is.EqualTo(OtherAccount));
            Assert.That(verifier.IsConfigured(OtherAccount), Is.True);
            Assert.That(verifier.IsConfigured("AC00000000000000000000000000000003"), Is.False);
        }
    }

    [Test]
    public void ChecksNothingWhenSignatureValidationIsOff()
    {
        var options = new TwilioOptions { ValidateSignatures = false, Accounts = [new TwilioAccountOptions { AccountSid = VectorAccount, AuthToken = VectorToken }] };

        var verdict = new TwilioSignatureVerifier(Options.Create(options)).Verify("http://localhost/hook", null, VectorBodyBytes);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(verdict.IsValid, Is.True);
            Assert.That(verdict.SignedBy, Is.Null);
        }
    }

    [TestCase("https://example.com/hook?x=1", "https://example.com:443/hook?x=1")]
    [TestCase("https://example.com:443/hook", "https://example.com/hook")]
    [TestCase("http://example.com/hook", "http://example.com:80/hook")]
    [TestCase("http://example.com:80/hook", "http://example.com/hook")]
    [TestCase("https://example.com", "https://example.com:443")]
    [TestCase("https://[::1]/hook", "https://[::1]:443/hook")]
    [TestCase("https://[::1]:443/hook", "https://[::1]/hook")]
    [TestCase("https://example.com:8443/hook", "https://example.com/hook")]
    [TestCase("http://example.com:5080/calls?x=1", "http://example.com/calls?x=1")]
    [TestCase("https://[::1]:8443/hook", "https://[::1]/hook")]
    [TestCase("ftp://example.com/hook", null)]
    public void BuildsThePortVariantTwiliosHelperLibrariesAccept(string url, string? expected)
    {
        Assert.That(TwilioSignature.PortVariant(url), Is.EqualTo(expected));
    }

    /// <summary>
    /// Twilio's own helper library is the independent reference: every request it calls validly signed is accepted,
    /// and each single change (body, URL, token, signature) is refused by both.
    /// </summary>
    [Test]
    public void AgreesWithTwiliosRequestValidatorOnGeneratedRequests()
    {
        var random = new Random(20261128);
        for (var i = 0; i < 200; i++)
        {
            var token = RandomText(random, 32);
            var body = Encoding.UTF8.GetBytes($"{{\"twi_message_id\":\"WB{RandomHex(random, 32)}\",\"twi_to\":\"client:{RandomText(random, 12)}\"}}");
            var bodyText = Encoding.UTF8.GetString(body);
            var hash = Convert.ToHexStringLower(SHA256.HashData(body));
            var port = random.Next(3) switch { 0 => string.Empty, 1 => ":443", _ => ":8443" };
            var url = $"https://host{random.Next(1000)}.example.com{port}/calls/notificationWebhook?a={random.Next()}&bodySHA256={hash}";
            var signature = Sign(token, url);
            var verifier = Verifier(VectorAccount, token);
            var twilio = new RequestValidator(token);

            Assert.That(twilio.Validate(url, bodyText, signature), Is.True, "Twilio's library should accept the test's own signing.");
            Assert.That(verifier.Verify(url, signature, body).IsValid, Is.True, url);

            var otherBody = Encoding.UTF8.GetBytes(bodyText + " ");
            Assert.That(twilio.Validate(url, Encoding.UTF8.GetString(otherBody), signature), Is.False);
            Assert.That(verifier.Verify(url, signature, otherBody).IsValid, Is.False);

            var otherUrl = url.Replace("a=", "b=", StringComparison.Ordinal);
            Assert.That(twilio.Validate(otherUrl, bodyText, signature), Is.False);
            Assert.That(verifier.Verify(otherUrl, signature, body).IsValid, Is.False);

            var otherToken = new RequestValidator(token + "x");
            Assert.That(otherToken.Validate(url, bodyText, signature), Is.False);
            Assert.That(Verifier(VectorAccount, token + "x").Verify(url, signature, body).IsValid, Is.False);

            var otherSignature = Sign(token, url + "&c=1");
            Assert.That(twilio.Validate(url, bodyText, otherSignature), Is.False);
            Assert.That(verifier.Verify(url, otherSignature, body).IsValid, Is.False);
        }
    }

    [Test]
    public async Task OneVerifierGivesEachOfManyConcurrentCallersItsOwnVerdict()
    {
        // The keyed HMACs are reused per thread and reset after each use: no caller may see another's state, and a
        // mismatch must not leave anything behind for the next verification on that thread.
        using var verifier = new TwilioSignatureVerifier(Options.Create(new TwilioOptions
        {
            Accounts =
            [
                new TwilioAccountOptions { AccountSid = VectorAccount, AuthToken = VectorToken },
                new TwilioAccountOptions { AccountSid = OtherAccount, AuthToken = "other-account-token" },
            ],
        }));

        var wrong = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                var body = Encoding.UTF8.GetBytes($"{{\"n\":{worker * 1000 + i}}}");
                var url = $"https://example.com/calls/notificationWebhook?n={i}&bodySHA256={Convert.ToHexStringLower(SHA256.HashData(body))}";
                var (token, account) = i % 2 == 0 ? (VectorToken, VectorAccount) : ("other-account-token", OtherAccount);
                var good = verifier.Verify(url, Sign(token, url), body);
                var bad = verifier.Verify(url, Sign(token + "x", url), body);
                if (good.SignedBy != account || bad.IsValid)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        })));

        Assert.That(wrong, Is.Zero);
    }

    private static TwilioSignatureVerifier Verifier(string accountSid, string token) =>
        new(Options.Create(new TwilioOptions { Accounts = [new TwilioAccountOptions { AccountSid = accountSid, AuthToken = token }] }));

    private static string Sign(string token, string url) => TwilioSignature.Sign(token, url);

    private static string RandomHex(Random random, int length) =>
        string.Concat(Enumerable.Range(0, length).Select(_ => "0123456789abcdef"[random.Next(16)]));

    private static string RandomText(Random random, int length) =>
        string.Concat(Enumerable.Range(0, length).Select(_ => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"[random.Next(63)]));
}
