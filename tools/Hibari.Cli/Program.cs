return await Hibari.Cli.HibariCommand.RunAsync(args, Console.Out, Console.Error);
