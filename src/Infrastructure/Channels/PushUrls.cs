using CallNotify.Domain.Common;

namespace CallNotify.Infrastructure.Channels;

/// <summary>
/// What traces may say of a push provider's URL. APNs carries the device token in its path (<c>/3/device/&lt;token&gt;</c>),
/// and a device token is a credential for that device: a span names it as logs do, by its last characters
/// (<see cref="PushAddress.Redact"/>).
/// </summary>
public static class PushUrls
{
    private const string DevicePath = "/3/device/";

    /// <summary><paramref name="url"/> with an APNs device token redacted; any other URL as it is.</summary>
    public static string Redacted(Uri url)
    {
        var path = url.AbsolutePath;
        var at = path.IndexOf(DevicePath, StringComparison.Ordinal);
        if (at < 0)
        {
            return url.ToString();
        }

        var token = Uri.UnescapeDataString(path[(at + DevicePath.Length)..]);
        return url.GetLeftPart(UriPartial.Authority) + path[..(at + DevicePath.Length)] + PushAddress.Redact(token);
    }
}
