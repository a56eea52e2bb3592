using System.Buffers.Text;
using System.Text;

namespace CallNotify.Application.Common.Paging;

/// <summary>An opaque cursor: the id of the last item of the previous page, base64url-encoded.</summary>
public static class PageToken
{
    public const int MaxPageSize = 200;
    public const int DefaultPageSize = 50;

    public static string Encode(string lastId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastId));

    public static bool TryDecode(string? token, string idPrefix, out string? lastId)
    {
        lastId = null;
        if (string.IsNullOrEmpty(token))
        {
            return true;
        }

        if (token.Length > 128 || !Base64Url.IsValid(token))
        {
            return false;
        }

        var id = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        if (!Domain.Common.Ids.IsValid(idPrefix, id))
        {
            return false;
        }

        lastId = id;
        return true;
    }
}

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);
