using System.Security.Cryptography;

namespace CallNotify.Infrastructure.Channels.Apns;

/// <summary>Reads the APNs auth key: the <c>.p8</c> file Apple hands out, a PEM "PRIVATE KEY" (PKCS#8) on curve P-256.</summary>
internal static class ApnsSigningKey
{
    private const string Pkcs8Label = "PRIVATE KEY";
    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>Loads the key at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be read (also <see cref="UnauthorizedAccessException"/>).</exception>
    /// <exception cref="CryptographicException">The file does not hold a PKCS#8 P-256 private key.</exception>
    public static ECDsa Load(string path) => Parse(File.ReadAllText(path));

    public static ECDsa Parse(ReadOnlySpan<char> pem)
    {
        // The first "PRIVATE KEY" block: SEC1 ("EC PRIVATE KEY") and encrypted keys are not what Apple issues.
        while (PemEncoding.TryFind(pem, out var fields))
        {
            if (pem[fields.Label].SequenceEqual(Pkcs8Label))
            {
                return Import(Convert.FromBase64String(pem[fields.Base64Data].ToString()));
            }

            pem = pem[fields.Location.End..];
        }

        throw new CryptographicException("No PEM 'PRIVATE KEY' block found.");
    }

    private static ECDsa Import(byte[] pkcs8)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length || key.ExportParameters(false).Curve.Oid.Value != P256Oid)
            {
                throw new CryptographicException("The key is not a P-256 key.");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }
}
