using PipelineSdk.Cli;

return Mlp.Run(args);
