using System.Text;

namespace WeSeek.Tests.Moderation;

/// <summary>
/// The labelled set the word filter is measured on: evasions of listed words by category, and ordinary text
/// by category — sentences that share characters or syllables with listed words, clause boundaries, English,
/// pinyin chat, other scripts. The evasions written with Unicode's look-alike letters are spelled here by
/// code point arithmetic (the Unicode charts' offsets), not by the filter's own tables, so the set does not
/// check the normaliser against itself.
/// </summary>
internal static class ModerationCorpus
{
    public static readonly string[] Words =
        ["代开发票", "赌博网站", "刷单返利", "枪支弹药", "casino", "赌博", "私彩", "刷单", "裸聊", "法轮功", "毒品", "办证"];

    /// <summary>(text, the listed word it hides, category).</summary>
    public static readonly (string Text, string Word, string Category)[] Evasions =
    [
        .. Category("exact",
            ("专业代开发票，联系我", "代开发票"), ("最新赌博网站推荐", "赌博网站"), ("刷单返利，日赚三百", "刷单返利"),
            ("出售枪支弹药", "枪支弹药"), ("online casino bonus", "casino"), ("网上赌博输了", "赌博"),
            ("私彩平台", "私彩"), ("招刷单兼职", "刷单"), ("裸聊视频", "裸聊"), ("毒品交易", "毒品"), ("快速办证", "办证")),
        .. Category("separators",
            ("代 开 发 票", "代开发票"), ("代.开-发_票", "代开发票"), ("赌。博。网。站", "赌博网站"), ("刷 单 返 利", "刷单返利"),
            ("c a s i n o", "casino"), ("c.a.s.i.n.o", "casino"), ("赌-博", "赌博"), ("赌·博", "赌博"), ("私*彩", "私彩"),
            ("刷/单", "刷单"), ("裸～聊", "裸聊"), ("毒|品", "毒品"), ("办…证", "办证"), ("枪_支_弹_药", "枪支弹药")),
        .. Category("zero-width",
            ("代\u200B开\u200C发\u200D票", "代开发票"), ("赌\u2060博\uFEFF网站", "赌博网站"), ("Ca\u200Bsi\u200Bno", "casino"),
            ("赌\u200B博", "赌博"), ("私\u200D彩", "私彩"), ("裸\u2060聊", "裸聊"), ("毒\u200C品", "毒品"), ("办\uFE0F证", "办证")),
        .. Category("traditional",
            ("代開發票", "代开发票"), ("賭博網站", "赌博网站"), ("刷單返利", "刷单返利"), ("槍支彈藥", "枪支弹药"),
            ("賭博", "赌博"), ("刷單", "刷单"), ("法輪功", "法轮功"), ("辦證", "办证")),
        .. Category("full-width",
            (FullWidth("dubo"), "赌博"), (FullWidth("CASINO"), "casino"), (FullWidth("shua dan"), "刷单"), (FullWidth("DaiKaiFaPiao"), "代开发票"),
            (FullWidth("sicai"), "私彩"), (FullWidth("luo liao"), "裸聊"), ("找我" + FullWidth("banzheng"), "办证"), (FullWidth("falungong"), "法轮功")),
        .. Category("cyrillic/greek",
            ("dub\u043E", "赌博"), ("\u0441\u0430sin\u043E", "casino"), ("c\u0430sino", "casino"), ("\u0455hua dan", "刷单"),
            ("lu\u043E li\u0430\u043E", "裸聊"), ("dai kai fa pia\u03BF", "代开发票"), ("f\u0430 lun g\u043Eng", "法轮功"),
            ("du \u0440in", "毒品"), ("b\u0430n zh\u0435ng", "办证"), ("\u03BFnline cas\u03B9no", "casino")),
        .. Category("mathematical",
            (Math("dubo", 0x1D41A), "赌博"), (Math("dubo", 0x1D482), "赌博"), (Math("casino", 0x1D552), "casino"),
            (Math("shua", 0x1D5BA) + " " + Math("dan", 0x1D5BA), "刷单"), (Math("luoliao", 0x1D68A), "裸聊"),
            (Math("sicai", 0x1D5EE), "私彩"), (Math("banzheng", 0x1D41A), "办证"), (Math("dupin", 0x1D68A), "毒品")),
        .. Category("circled",
            (Circled("dubo"), "赌博"), (Circled("casino"), "casino"), (Circled("shua") + " " + Circled("dan"), "刷单"),
            (Circled("sicai"), "私彩"), (Parenthesized("dubo"), "赌博"), (Circled("luoliao"), "裸聊"), (Circled("dupin"), "毒品")),
        .. Category("tone marks",
            ("dǔ bó", "赌博"), ("dài kāi fā piào", "代开发票"), ("shuā dān", "刷单"), ("sī cǎi", "私彩"), ("luǒ liáo", "裸聊"),
            ("fǎ lún gōng", "法轮功"), ("dú pǐn", "毒品"), ("bàn zhèng", "办证"), ("dǔbó wǎngzhàn", "赌博网站"),
            ("d\u0075\u030Cb\u006F\u0301", "赌博")),
        .. Category("inserted symbol",
            ("赌🎲博", "赌博"), ("刷💰单", "刷单"), ("裸❤聊", "裸聊"), ("毒☆品", "毒品"), ("代😀开😀发😀票", "代开发票"),
            ("私🎰彩", "私彩"), ("枪✨支弹药", "枪支弹药"), ("办📄证", "办证"), ("赌♠博网站", "赌博网站"), ("赌👍🏻博", "赌博")),
        .. Category("inserted letter",
            ("赌x博", "赌博"), ("刷a单", "刷单"), ("裸z聊", "裸聊"), ("毒k品", "毒品"), ("私q彩", "私彩"),
            ("代x开x发x票", "代开发票"), ("办v证", "办证"), ("赌 x 博", "赌博")),
        .. Category("pinyin",
            ("dai kai fa piao 找我", "代开发票"), ("DaiKaiFaPiao", "代开发票"), ("du bo wang zhan", "赌博网站"),
            ("shua dan fan li", "刷单返利"), ("qiangzhidanyao", "枪支弹药"), ("fa lun gong", "法轮功"), ("FaLunGong", "法轮功")),
        .. Category("pinyin, two characters",
            ("dubo", "赌博"), ("du bo", "赌博"), ("DuBo", "赌博"), ("shua dan", "刷单"), ("shuadan", "刷单"), ("sicai", "私彩"),
            ("si cai", "私彩"), ("luoliao", "裸聊"), ("luo liao", "裸聊"), ("dupin", "毒品"), ("du pin", "毒品"),
            ("banzheng", "办证"), ("ban zheng", "办证"), ("找我 dubo 平台", "赌博"), ("加微信 shuadan 日结", "刷单"),
            ("d u b o", "赌博"), ("du-bo", "赌博")),
        .. Category("mixed",
            ("代kai发票", "代开发票"), ("赌bo", "赌博"), ("du博", "赌博"), ("刷dan", "刷单"), ("裸liao", "裸聊"),
            ("法lun功", "法轮功"), ("枪zhi弹yao", "枪支弹药"), ("私cai", "私彩"), ("毒pin", "毒品"), ("ban证", "办证")),
        .. Category("homophone",
            ("带开发漂", "代开发票"), ("堵博网站", "赌博网站"), ("刷单反利", "刷单返利"), ("抢支弹药", "枪支弹药"),
            ("发轮功", "法轮功"), ("代开发飘", "代开发票")),
        .. Category("look-alike",
            ("裸耺", "裸聊"), ("毐品", "毒品"), ("代开叐票", "代开发票"), ("赌愽", "赌博"), ("刷単", "刷单"), ("枪支弾药", "枪支弹药"),
            ("代开発票", "代开发票")),
        .. Category("combined",
            (FullWidth("du") + " 🎲 " + FullWidth("bo"), "赌博"), (Math("d", 0x1D41A) + "ǔ b" + Math("o", 0x1D41A), "赌博"),
            (FullWidth("D") + "ǔ·" + FullWidth("B") + "ó", "赌博"), ("代 開 fa 票", "代开发票"), ("賭x博", "赌博"),
            (Circled("shua") + " " + Circled("dan"), "刷单"), ("dǔ🎲bó", "赌博"), ("\u0455hu\u0430 d\u0430n", "刷单"), ("賭🎲博網站", "赌博网站")),
    ];

    /// <summary>Ordinary text, by category: none of it should be flagged.</summary>
    public static readonly (string Text, string Category)[] Clean =
    [
        .. Category("shares characters",
            "杜博士你好", "私菜馆在哪", "发票怎么开？公司报销要用", "他开发了一款游戏，很好玩", "博物馆几点开门", "网站打不开了，帮我看看",
            "刷牙洗脸再吃早饭", "赌气不说话可不好", "博客写好了", "毒蛇咬人怎么办", "品尝一下这道菜", "办理证件需要什么材料",
            "彩票中奖了吗", "私人定制的旅行", "聊天记录怎么恢复", "裸眼3D电影", "枪支管理法有哪些规定", "返利活动几号结束",
            "网站开发要学什么", "法轮常转是佛教用语", "带孩子去开发区的图书馆", "单反相机和微单哪个好", "抢购的商品什么时候发货",
            "我想学习支付宝的利息怎么算", "水彩画怎么画", "刷卡还是付现金", "这个单子明天交", "弹药库的历史", "代办签证多少钱",
            "开发票要带身份证吗", "赌场风云是一部老电影", "博士毕业去哪工作", "办公室在三楼", "证书什么时候发"),
        .. Category("shares syllables",
            "读博士很辛苦", "读博还是工作", "度博客", "杜波是我同事", "渡波口岸", "四彩虹", "丝彩带", "耍单帮", "罗辽两地", "独品一杯茶",
            "半证明", "办正事要紧", "去西安全程要多久", "他是代课老师", "带开水来", "发轮胎", "肚饱了", "刷蛋液再烤",
            "毒瓶子", "私菜", "螺聊", "半正经"),
        .. Category("clause boundary",
            "我刷，单位的门禁卡", "今天不赌，博物馆去不去", "他去刷。单位在东边", "刷！单词背完了", "我私，彩色的那个给你",
            "不想裸，聊天吧", "去办；证明材料带齐", "我在读，博士学位还没拿", "东西太毒，品质不好", "代，开发票的人来了吗"),
        .. Category("everyday",
            "今天天气很好，我们去公园吧", "晚饭吃什么？", "帮我查一下明天北京的天气", "这本书讲的是宋朝的历史", "我下周要出差去上海",
            "谢谢你的帮助！", "请把会议改到下午三点", "孩子发烧了怎么办", "推荐几部好看的电影", "怎么做红烧肉",
            "快递什么时候到", "我的手机没电了", "周末一起去爬山吗", "这道数学题怎么做", "帮我翻译这句话"),
        .. Category("English",
            "This is a basic aircraft", "Dubois先生来了", "occasion 这个单词怎么读", "I read a book about Dublin",
            "Subordinate clauses are hard", "Please send me the invoice", "The dubbing was great", "Lucas is an actor",
            "Sicario is a film", "dubious claims", "She bought a new bike", "Can you help me with my homework?",
            "Let me know when you arrive", "The bank is closed on Sunday", "A basic cable will do", "Shuang is my friend",
            "Duboce Park in San Francisco", "He has a PhD in physics", "Banzai!", "Thank you so much",
            "I flew from Beijing to Shanghai", "Tai chi in the park at dawn", "Zhang Wei sent the file", "Xi'an is beautiful",
            "Dim sum for lunch?", "Li Na won the French Open", "Do you like bok choy", "Deng Xiaoping and the reforms"),
        .. Category("pinyin chat",
            "ni hao", "wo men qu chi fan ba", "du shu hen zhong yao", "bo ke xie hao le", "si ren shi jian", "cai piao", "luo ma",
            "dai ma xie wan le", "fa piao zen me kai", "kai fa gong cheng shi", "zhe ge wang zhan hen hao", "dan shi wo bu xiang qu",
            "ban gong shi", "zheng zai kai hui"),
        .. Category("mixed script",
            "ok 我马上到", "wifi 密码是多少", "iPhone 怎么截图", "APP打不开", "请帮我写一段 Python 代码", "我在用Excel做表",
            "发个PDF给我", "用 VPN 连公司网", "CPU占用太高", "买了个USB线"),
        .. Category("other scripts",
            "Привет, как дела?", "Καλημέρα σας", "こんにちは、元気ですか", "안녕하세요", "Дубовый стол", "добро пожаловать",
            "Спасибо большое", "Ευχαριστώ πολύ"),
    ];

    private static IEnumerable<(string, string, string)> Category(string category, params (string Text, string Word)[] items) =>
        items.Select(i => (i.Text, i.Word, category));

    private static IEnumerable<(string, string)> Category(string category, params string[] texts) => texts.Select(t => (t, category));

    /// <summary>ASCII as full-width forms (U+FF01 onwards).</summary>
    public static string FullWidth(string ascii) => new([.. ascii.Select(c => c == ' ' ? '\u3000' : (char)(c + 0xFEE0))]);

    /// <summary>Lower-case ASCII letters in one of the Mathematical Alphanumeric Symbols alphabets, given the code point
    /// of its "a" (bold 1D41A, bold italic 1D482, double-struck 1D552, sans-serif 1D5BA, sans bold 1D5EE, monospace 1D68A:
    /// alphabets without holes in their lower case).</summary>
    public static string Math(string letters, int a) => Spell(letters, a);

    /// <summary>Circled lower-case letters (ⓐ U+24D0).</summary>
    public static string Circled(string letters) => Spell(letters, 0x24D0);

    /// <summary>Parenthesized letters (⒜ U+249C).</summary>
    public static string Parenthesized(string letters) => Spell(letters, 0x249C);

    private static string Spell(string letters, int a)
    {
        var text = new StringBuilder();
        foreach (var c in letters)
        {
            text.Append(char.ConvertFromUtf32(a + (char.ToLowerInvariant(c) - 'a')));
        }

        return text.ToString();
    }
}
