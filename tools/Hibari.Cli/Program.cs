return await Hibari.Cli.Cli.RunAsync(args, Console.Out, Console.Error);
