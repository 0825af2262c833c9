namespace Eddy.Http.Parsing.Internal;

/// <summary>What <see cref="HttpResponseReader.Read"/> found.</summary>
internal enum ResponseReadStatus : byte
{
    /// <summary>The input ended inside a response.</summary>
    NeedMoreData,

    /// <summary>One response ended: its status is in <see cref="HttpResponseReader.StatusCode"/>.</summary>
    Complete,
}
