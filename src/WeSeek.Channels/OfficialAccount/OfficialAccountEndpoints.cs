using Microsoft.AspNetCore.Routing;
using WeSeek.Channels.OfficialAccount;
using WeSeek.Channels.WeChat;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the 公众号 callbacks.</summary>
public static class OfficialAccountEndpoints
{
    /// <summary>Maps <c>GET</c> (URL verification) and <c>POST</c> (messages) at <c>/wechat/mp/{account}</c>,
    /// the URL set in the MP console's 服务器配置 (behind a proxy on port 80 or 443: WeChat calls no other).
    /// An unknown account is a 404.</summary>
    public static IEndpointRouteBuilder MapOfficialAccount(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapWeChatCallback<OfficialAccountChannel>("/wechat/mp/{name}");
}
